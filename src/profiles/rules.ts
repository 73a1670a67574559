import { restrictiveness } from './actions.js';
import type { Action, Arg, SyscallRule } from './types.js';

/** One rule for one syscall name: the unit merge and diff reason about. */
export interface NameRule {
  readonly action: Action;
  readonly errnoRet?: number;
  readonly args?: readonly Arg[];
}

export function isConditional(rule: NameRule): boolean {
  return rule.args !== undefined && rule.args.length > 0;
}

/** A stable identity for a rule, ignoring key order and an empty args list. */
export function ruleKey(rule: NameRule): string {
  const args = (rule.args ?? []).map((a) => [a.index, a.op, a.value ?? 0, a.valueTwo ?? 0]);
  return JSON.stringify([rule.action, rule.errnoRet ?? null, args]);
}

/** Splits rule lists into per-name rules, keeping the order they appear in. */
export function rulesByName(syscalls: readonly SyscallRule[] | undefined): Map<string, NameRule[]> {
  const byName = new Map<string, NameRule[]>();
  for (const rule of syscalls ?? []) {
    const nameRule: NameRule = {
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
      ...(rule.args !== undefined && rule.args.length > 0 ? { args: rule.args } : {}),
    };
    for (const name of rule.names) {
      const list = byName.get(name);
      if (list === undefined) byName.set(name, [nameRule]);
      else list.push(nameRule);
    }
  }
  return byName;
}

/**
 * The union of several treatments of one syscall: whatever any input lets through stays allowed.
 * The least restrictive unconditional rule wins; conditional rules survive only where they let through more than it.
 */
export function unionRules(rules: readonly NameRule[]): NameRule[] {
  let floor: NameRule | undefined;
  for (const rule of rules) {
    if (isConditional(rule)) continue;
    if (floor === undefined || restrictiveness(rule.action) < restrictiveness(floor.action)) floor = rule;
  }
  const kept: NameRule[] = [];
  const seen = new Set<string>();
  for (const rule of rules) {
    if (!isConditional(rule)) continue;
    if (floor !== undefined && restrictiveness(rule.action) >= restrictiveness(floor.action)) continue;
    const key = ruleKey(rule);
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(rule);
  }
  return floor === undefined ? kept : [floor, ...kept];
}

/** Groups per-name rules back into syscall entries: one entry per distinct rule, names sorted. */
export function groupRules(byName: ReadonlyMap<string, readonly NameRule[]>): SyscallRule[] {
  const groups = new Map<string, { rule: NameRule; names: string[] }>();
  for (const [name, rules] of byName) {
    for (const rule of rules) {
      const key = ruleKey(rule);
      const group = groups.get(key);
      if (group === undefined) groups.set(key, { rule, names: [name] });
      else if (!group.names.includes(name)) group.names.push(name);
    }
  }
  const entries = [...groups.entries()].sort(([a, ga], [b, gb]) => {
    const rank = restrictiveness(ga.rule.action) - restrictiveness(gb.rule.action);
    return rank !== 0 ? rank : a < b ? -1 : a > b ? 1 : 0;
  });
  return entries.map(([, { rule, names }]) => ({
    names: names.sort(),
    action: rule.action,
    ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
    ...(rule.args !== undefined ? { args: rule.args.map((a) => ({ ...a })) } : {}),
  }));
}
