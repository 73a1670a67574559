import { RECORDED_BASES, type RecordedBase } from './builtin-bases.generated.js';
import type { SeccompProfileSpec } from './types.js';

/**
 * Base profiles shipped with the project for the container runtimes, by name (`runc-v<version>`,
 * `crun-v<version>`). Each is what the runtime itself calls inside the container after installing the seccomp
 * filter, recorded on a real node by scripts/record-runtime-base (see builtin-bases.generated.ts).
 */
export function toBaseSpec(recorded: RecordedBase): SeccompProfileSpec {
  // A base contributes its allow rules; the child's defaultAction always wins when layered (profiles/base.ts).
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ action: 'SCMP_ACT_ALLOW', names: [...recorded.syscalls] }],
  };
}

export function basesFrom(
  recorded: Readonly<Record<string, RecordedBase>>,
): ReadonlyMap<string, SeccompProfileSpec> {
  return new Map(Object.entries(recorded).map(([name, r]) => [name, toBaseSpec(r)]));
}

export const BUILTIN_BASES: ReadonlyMap<string, SeccompProfileSpec> = basesFrom(RECORDED_BASES);

export interface BuiltinResolution {
  /** The built-in that is used */
  readonly name: string;
  readonly spec: SeccompProfileSpec;
  /** Set when `name` differs from the one asked for: say so, the profile may be too wide or too narrow. */
  readonly warning?: string;
}

const VERSIONED = /^(runc|crun)-v(\d+)\.(\d+)\.(\d+)$/;

type Version = readonly [number, number, number];

function parse(name: string): { runtime: string; version: Version } | undefined {
  const m = VERSIONED.exec(name);
  if (m === null) return undefined;
  return { runtime: m[1]!, version: [Number(m[2]), Number(m[3]), Number(m[4])] };
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * An exact built-in, else for a `<runtime>-v<x.y.z>` we do not ship the nearest one of the same runtime: the
 * oldest shipped version at or above the one asked for, else the newest shipped. A newer runtime's base is the
 * better guess for an older one (runtimes gain start-up calls more often than they lose them), and manifests
 * written for another version (the seed's `runc-v1.0.0`) keep working, with a warning.
 */
export function resolveBuiltinBase(
  name: string,
  bases: ReadonlyMap<string, SeccompProfileSpec> = BUILTIN_BASES,
): BuiltinResolution | undefined {
  const exact = bases.get(name);
  if (exact !== undefined) return { name, spec: exact };
  const asked = parse(name);
  if (asked === undefined) return undefined;
  const shipped = [...bases.keys()]
    .map((n) => ({ n, p: parse(n) }))
    .filter(
      (c): c is { n: string; p: { runtime: string; version: Version } } => c.p?.runtime === asked.runtime,
    )
    .sort((a, b) => compare(a.p.version, b.p.version));
  const pick = shipped.find((c) => compare(c.p.version, asked.version) >= 0) ?? shipped.at(-1);
  if (pick === undefined) return undefined;
  return {
    name: pick.n,
    spec: bases.get(pick.n)!,
    warning: `built-in base profile "${name}" is not shipped; using "${pick.n}", the nearest ${asked.runtime} base`,
  };
}

export function builtinBase(name: string): SeccompProfileSpec | undefined {
  return resolveBuiltinBase(name)?.spec;
}
