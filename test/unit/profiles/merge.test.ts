import t from 'tap';
import { canonicalSpec, isSuperset, mergeSpecs } from '../../../src/profiles/merge.js';
import type { SeccompProfileSpec } from '../../../src/profiles/types.js';
import { allowList, rule } from '../../helpers/profiles.js';

const ioctlTty = { index: 1, value: 21505, op: 'SCMP_CMP_EQ' } as const;

const cases: Array<{ name: string; inputs: SeccompProfileSpec[]; expected: SeccompProfileSpec }> = [
  {
    name: 'allow lists are united, sorted and deduplicated',
    inputs: [allowList(['write', 'read']), allowList(['read', 'mkdir'])],
    expected: allowList(['mkdir', 'read', 'write']),
  },
  {
    name: 'least restrictive action wins per syscall',
    inputs: [
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [rule(['ptrace'], 'SCMP_ACT_KILL_PROCESS'), rule(['read'], 'SCMP_ACT_ALLOW')],
      },
      { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [rule(['ptrace'], 'SCMP_ACT_LOG')] },
    ],
    expected: {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [rule(['read'], 'SCMP_ACT_ALLOW'), rule(['ptrace'], 'SCMP_ACT_LOG')],
    },
  },
  {
    name: 'a name one input leaves out takes that input’s default',
    inputs: [
      { defaultAction: 'SCMP_ACT_LOG' },
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [rule(['read'], 'SCMP_ACT_ALLOW'), rule(['reboot'], 'SCMP_ACT_KILL')],
      },
    ],
    // reboot: KILL in one input, LOG (default) in the other: LOG, which the merged default already says.
    expected: { defaultAction: 'SCMP_ACT_LOG', syscalls: [rule(['read'], 'SCMP_ACT_ALLOW')] },
  },
  {
    name: 'argument rules are kept when nothing allows the call outright',
    inputs: [
      allowList(['read']),
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [rule(['ioctl'], 'SCMP_ACT_ALLOW', { args: [ioctlTty] })],
      },
    ],
    expected: {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [rule(['ioctl'], 'SCMP_ACT_ALLOW', { args: [ioctlTty] }), rule(['read'], 'SCMP_ACT_ALLOW')],
    },
  },
  {
    name: 'an unconditional allow makes argument rules redundant',
    inputs: [
      allowList(['ioctl']),
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [rule(['ioctl'], 'SCMP_ACT_ALLOW', { args: [ioctlTty] })],
      },
    ],
    expected: allowList(['ioctl']),
  },
  {
    name: 'errno values survive',
    inputs: [
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [rule(['mount'], 'SCMP_ACT_ERRNO', { errnoRet: 38 })] },
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [rule(['mount'], 'SCMP_ACT_ERRNO', { errnoRet: 38 })] },
    ],
    expected: {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [rule(['mount'], 'SCMP_ACT_ERRNO', { errnoRet: 38 })],
    },
  },
  {
    name: 'architectures and flags are united in a fixed order',
    inputs: [
      allowList(['read'], { architectures: ['SCMP_ARCH_AARCH64'], flags: ['SECCOMP_FILTER_FLAG_LOG'] }),
      allowList(['read'], { architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] }),
    ],
    expected: allowList(['read'], {
      architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
    }),
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.same(mergeSpecs(c.inputs), c.expected);
    t.same(
      mergeSpecs([...c.inputs].reverse())
        .syscalls?.flatMap((s) => s.names)
        .sort(),
      c.expected.syscalls?.flatMap((s) => s.names).sort(),
      'order of inputs does not matter',
    );
    t.ok(isSuperset(mergeSpecs(c.inputs), c.inputs), 'the union covers every input');
  });
}

t.test('superset check', async (t) => {
  t.ok(isSuperset(allowList(['read', 'write']), [allowList(['read'])]));
  t.notOk(isSuperset(allowList(['read']), [allowList(['read', 'write'])]));
  t.notOk(
    isSuperset(allowList(['read']), [{ defaultAction: 'SCMP_ACT_LOG' }]),
    'a log default lets more through',
  );
});

t.test('canonical form drops rules that repeat the default', async (t) => {
  t.same(canonicalSpec({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [rule(['read'], 'SCMP_ACT_ERRNO')] }), {
    defaultAction: 'SCMP_ACT_ERRNO',
  });
});

t.test('different base profiles cannot be merged blindly', async (t) => {
  t.throws(() => mergeSpecs([allowList(['read'], { baseProfileName: 'runc-v1.1.5' }), allowList(['read'])]), {
    code: 'ERR_BASE_PROFILE',
    message: /different base profiles \(runc-v1\.1\.5, none\)/,
  });
  t.same(
    mergeSpecs([
      allowList(['read'], { baseProfileName: 'b' }),
      allowList(['x'] as string[], { baseProfileName: 'b' }),
    ]).baseProfileName,
    'b',
  );
});
