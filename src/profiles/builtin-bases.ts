import type { SeccompProfileSpec } from './types.js';

/**
 * Base profiles shipped with the project for the container runtimes, by name (`runc-v<version>`,
 * `crun-v<version>`). Each is what the runtime itself calls while starting a container, recorded with our own
 * recorder (scripts/record-runtime-base). Empty until a runtime has been recorded.
 */
export const BUILTIN_BASES: ReadonlyMap<string, SeccompProfileSpec> = new Map();

export function builtinBase(name: string): SeccompProfileSpec | undefined {
  return BUILTIN_BASES.get(name);
}
