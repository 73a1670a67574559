import { leastRestrictive } from './actions.js';
import { AppError } from '../errors.js';
import { groupRules, isConditional, type NameRule, rulesByName, unionRules } from './rules.js';
import { ARCHITECTURES, FLAGS } from './schema.js';
import type { SeccompProfileSpec } from './types.js';

function unionOrdered<T extends string>(
  order: readonly T[],
  lists: ReadonlyArray<readonly T[] | undefined>,
): T[] | undefined {
  if (lists.every((l) => l === undefined)) return undefined;
  const present = new Set(lists.flatMap((l) => l ?? []));
  return order.filter((v) => present.has(v));
}

/** An unconditional rule that says what the default says adds nothing: calls it misses fall to the default anyway. */
function withoutDefault(
  rules: readonly NameRule[],
  defaultAction: SeccompProfileSpec['defaultAction'],
): NameRule[] {
  return rules.filter((r) => isConditional(r) || r.action !== defaultAction || r.errnoRet !== undefined);
}

/**
 * The union of profiles: a call any input lets through, the result lets through.
 * A name an input does not list is treated as that input's default action, so merging a log-everything profile
 * with an allow list gives a log default rather than silently dropping the allow list's effect.
 */
export function mergeSpecs(specs: readonly SeccompProfileSpec[]): SeccompProfileSpec {
  const [first] = specs;
  if (first === undefined) throw new RangeError('mergeSpecs needs at least one profile');
  const bases = new Set(specs.map((s) => s.baseProfileName));
  if (bases.size > 1) {
    throw new AppError(
      'ERR_BASE_PROFILE',
      `profiles name different base profiles (${[...bases].map((b) => b ?? 'none').join(', ')}); resolve the bases first`,
    );
  }
  const defaultAction = leastRestrictive(specs.map((s) => s.defaultAction));
  const perInput = specs.map((s) => rulesByName(s.syscalls));
  const names = new Set(perInput.flatMap((m) => [...m.keys()]));
  const merged = new Map<string, NameRule[]>();
  for (const name of [...names].sort()) {
    const candidates = perInput.flatMap((m, i) => m.get(name) ?? [{ action: specs[i]!.defaultAction }]);
    const rules = withoutDefault(unionRules(candidates), defaultAction);
    if (rules.length > 0) merged.set(name, rules);
  }
  const syscalls = groupRules(merged);
  const architectures = unionOrdered(
    ARCHITECTURES,
    specs.map((s) => s.architectures),
  );
  const flags = unionOrdered(
    FLAGS,
    specs.map((s) => s.flags),
  );
  return {
    ...(first.baseProfileName !== undefined ? { baseProfileName: first.baseProfileName } : {}),
    defaultAction,
    ...(architectures !== undefined ? { architectures } : {}),
    ...(syscalls.length > 0 ? { syscalls } : {}),
    ...(flags !== undefined ? { flags } : {}),
  };
}

/** The normal form of one profile: the same behaviour, with rules grouped and sorted and redundancy removed. */
export function canonicalSpec(spec: SeccompProfileSpec): SeccompProfileSpec {
  return mergeSpecs([spec]);
}

/** True when `first` already lets through everything the others do. */
export function isSuperset(first: SeccompProfileSpec, others: readonly SeccompProfileSpec[]): boolean {
  return JSON.stringify(canonicalSpec(first)) === JSON.stringify(mergeSpecs([first, ...others]));
}
