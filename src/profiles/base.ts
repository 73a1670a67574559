import { AppError } from '../errors.js';
import { type NameRule, groupRules, rulesByName } from './rules.js';
import type { SeccompProfileSpec } from './types.js';

/** Finds a base profile by name: a profile in the same namespace or a built-in; undefined when there is none. */
export type BaseLookup = (name: string) => SeccompProfileSpec | undefined;

export const DEFAULT_BASE_DEPTH = 8;

/** A child's own rules replace the base's rules for the same syscall; everything else the base allows is kept. */
function layer(base: SeccompProfileSpec, child: SeccompProfileSpec): SeccompProfileSpec {
  const merged = new Map<string, NameRule[]>(rulesByName(base.syscalls));
  for (const [name, rules] of rulesByName(child.syscalls)) merged.set(name, rules);
  const syscalls = groupRules(merged);
  const architectures = child.architectures ?? base.architectures;
  const flags = child.flags ?? base.flags;
  return {
    defaultAction: child.defaultAction,
    ...(architectures !== undefined ? { architectures: [...architectures] } : {}),
    ...(syscalls.length > 0 ? { syscalls } : {}),
    ...(flags !== undefined ? { flags: [...flags] } : {}),
  };
}

/**
 * Resolves `baseProfileName` recursively into one self-contained spec.
 * Fails on a missing base, a cycle, or a chain deeper than `maxDepth`, naming the chain.
 */
export function resolveBase(
  spec: SeccompProfileSpec,
  lookup: BaseLookup,
  options: { readonly self?: string; readonly maxDepth?: number } = {},
): SeccompProfileSpec {
  const maxDepth = options.maxDepth ?? DEFAULT_BASE_DEPTH;
  const chain: string[] = [options.self ?? '(profile)'];
  const specs: SeccompProfileSpec[] = [spec];
  let current = spec;
  while (current.baseProfileName !== undefined) {
    const name = current.baseProfileName;
    if (chain.includes(name)) {
      throw new AppError('ERR_BASE_PROFILE', `baseProfileName cycle: ${[...chain, name].join(' -> ')}`);
    }
    if (chain.length > maxDepth) {
      throw new AppError(
        'ERR_BASE_PROFILE',
        `baseProfileName chain deeper than ${maxDepth}: ${[...chain, name].join(' -> ')}`,
      );
    }
    const next = lookup(name);
    if (next === undefined) {
      throw new AppError(
        'ERR_BASE_PROFILE',
        `base profile "${name}" not found (chain: ${[...chain, name].join(' -> ')}); create it in the same namespace or use a built-in base`,
      );
    }
    chain.push(name);
    specs.push(next);
    current = next;
  }
  // The root of the chain has no base (the loop ended there); layer each child over it, nearest last.
  const [root, ...children] = specs.reverse();
  let resolved = structuredClone(root!);
  for (const child of children) resolved = layer(resolved, child);
  return resolved;
}
