import { canonicalSpec } from './merge.js';
import { type NameRule, ruleKey, rulesByName } from './rules.js';
import type { SeccompProfileSpec } from './types.js';

export interface SyscallChange {
  readonly name: string;
  readonly from: readonly NameRule[];
  readonly to: readonly NameRule[];
}

export interface ProfileDiff {
  readonly defaultAction?: { readonly from: string; readonly to: string };
  readonly baseProfileName?: { readonly from?: string; readonly to?: string };
  readonly added: readonly SyscallChange[];
  readonly removed: readonly SyscallChange[];
  readonly changed: readonly SyscallChange[];
  readonly architectures: { readonly added: readonly string[]; readonly removed: readonly string[] };
  readonly flags: { readonly added: readonly string[]; readonly removed: readonly string[] };
}

function setDelta(a: readonly string[] | undefined, b: readonly string[] | undefined) {
  const from = new Set(a ?? []);
  const to = new Set(b ?? []);
  return { added: [...to].filter((v) => !from.has(v)), removed: [...from].filter((v) => !to.has(v)) };
}

function sameRules(a: readonly NameRule[], b: readonly NameRule[]): boolean {
  const keys = (rules: readonly NameRule[]) => rules.map(ruleKey).sort().join('\n');
  return keys(a) === keys(b);
}

/** Behavioural difference from `a` to `b`, computed on normal forms so layout and order never show up. */
export function diffSpecs(a: SeccompProfileSpec, b: SeccompProfileSpec): ProfileDiff {
  const ca = canonicalSpec(a);
  const cb = canonicalSpec(b);
  const ra = rulesByName(ca.syscalls);
  const rb = rulesByName(cb.syscalls);
  const added: SyscallChange[] = [];
  const removed: SyscallChange[] = [];
  const changed: SyscallChange[] = [];
  for (const name of [...new Set([...ra.keys(), ...rb.keys()])].sort()) {
    const from = ra.get(name) ?? [];
    const to = rb.get(name) ?? [];
    if (from.length === 0) added.push({ name, from, to });
    else if (to.length === 0) removed.push({ name, from, to });
    else if (!sameRules(from, to)) changed.push({ name, from, to });
  }
  return {
    ...(ca.defaultAction !== cb.defaultAction
      ? { defaultAction: { from: ca.defaultAction, to: cb.defaultAction } }
      : {}),
    ...(ca.baseProfileName !== cb.baseProfileName
      ? { baseProfileName: { from: ca.baseProfileName, to: cb.baseProfileName } }
      : {}),
    added,
    removed,
    changed,
    architectures: setDelta(ca.architectures, cb.architectures),
    flags: setDelta(ca.flags, cb.flags),
  };
}

export function isEmptyDiff(d: ProfileDiff): boolean {
  return (
    d.defaultAction === undefined &&
    d.baseProfileName === undefined &&
    d.added.length + d.removed.length + d.changed.length === 0 &&
    d.architectures.added.length + d.architectures.removed.length === 0 &&
    d.flags.added.length + d.flags.removed.length === 0
  );
}

function describeRule(rule: NameRule): string {
  const errno = rule.errnoRet !== undefined ? `(${rule.errnoRet})` : '';
  const args = (rule.args ?? []).map(
    (a) =>
      `arg${a.index} ${a.op.replace('SCMP_CMP_', '')} ${a.value ?? 0}${a.valueTwo !== undefined ? `/${a.valueTwo}` : ''}`,
  );
  return `${rule.action}${errno}${args.length > 0 ? ` if ${args.join(' && ')}` : ''}`;
}

function describeRules(rules: readonly NameRule[]): string {
  return rules.map(describeRule).join('; ');
}

/** Renders a diff as lines: `+` added, `-` removed, `~` changed, like a patch a person can read. */
export function formatDiff(d: ProfileDiff, defaults: { from: string; to: string }): string[] {
  const lines: string[] = [];
  if (d.defaultAction) lines.push(`~ defaultAction: ${d.defaultAction.from} -> ${d.defaultAction.to}`);
  if (d.baseProfileName) {
    lines.push(`~ baseProfileName: ${d.baseProfileName.from ?? 'none'} -> ${d.baseProfileName.to ?? 'none'}`);
  }
  for (const a of d.architectures.added) lines.push(`+ architecture ${a}`);
  for (const a of d.architectures.removed) lines.push(`- architecture ${a}`);
  for (const f of d.flags.added) lines.push(`+ flag ${f}`);
  for (const f of d.flags.removed) lines.push(`- flag ${f}`);
  for (const c of d.added) lines.push(`+ ${c.name}: ${describeRules(c.to)} (was default ${defaults.from})`);
  for (const c of d.removed) lines.push(`- ${c.name}: ${describeRules(c.from)} (now default ${defaults.to})`);
  for (const c of d.changed) lines.push(`~ ${c.name}: ${describeRules(c.from)} -> ${describeRules(c.to)}`);
  return lines;
}
