import t from 'tap';
import { diffSpecs, formatDiff, isEmptyDiff } from '../../../src/profiles/diff.js';
import type { SeccompProfileSpec } from '../../../src/profiles/types.js';
import { allowList, rule } from '../../helpers/profiles.js';

t.test('layout and order are not differences', async (t) => {
  const a: SeccompProfileSpec = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [rule(['write', 'read'], 'SCMP_ACT_ALLOW')],
  };
  const b: SeccompProfileSpec = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      rule(['read'], 'SCMP_ACT_ALLOW'),
      rule(['write'], 'SCMP_ACT_ALLOW'),
      rule(['close'], 'SCMP_ACT_ERRNO'),
    ],
  };
  t.ok(isEmptyDiff(diffSpecs(a, b)));
});

t.test('added, removed and changed syscalls', async (t) => {
  const a: SeccompProfileSpec = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [rule(['read', 'write', 'ptrace'], 'SCMP_ACT_ALLOW')],
  };
  const b: SeccompProfileSpec = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [rule(['read', 'mkdir'], 'SCMP_ACT_ALLOW'), rule(['ptrace'], 'SCMP_ACT_LOG')],
  };
  const d = diffSpecs(a, b);
  t.same(
    d.added.map((c) => c.name),
    ['mkdir'],
  );
  t.same(
    d.removed.map((c) => c.name),
    ['write'],
  );
  t.same(
    d.changed.map((c) => c.name),
    ['ptrace'],
  );
  t.same(formatDiff(d, { from: a.defaultAction, to: b.defaultAction }), [
    '+ architecture SCMP_ARCH_X86_64',
    '+ mkdir: SCMP_ACT_ALLOW (was default SCMP_ACT_ERRNO)',
    '- write: SCMP_ACT_ALLOW (now default SCMP_ACT_ERRNO)',
    '~ ptrace: SCMP_ACT_ALLOW -> SCMP_ACT_LOG',
  ]);
});

t.test('default action and argument changes', async (t) => {
  const a = allowList(['read']);
  const b: SeccompProfileSpec = {
    defaultAction: 'SCMP_ACT_KILL_PROCESS',
    syscalls: [rule(['read'], 'SCMP_ACT_ALLOW', { args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] })],
  };
  const lines = formatDiff(diffSpecs(a, b), { from: a.defaultAction, to: b.defaultAction });
  t.same(lines, [
    '~ defaultAction: SCMP_ACT_ERRNO -> SCMP_ACT_KILL_PROCESS',
    '~ read: SCMP_ACT_ALLOW -> SCMP_ACT_ALLOW if arg0 EQ 0',
  ]);
});
