import t from 'tap';
import { resolveBase } from '../../../src/profiles/base.js';
import type { SeccompProfileSpec } from '../../../src/profiles/types.js';
import { allowList, rule } from '../../helpers/profiles.js';

function lookupFrom(specs: Record<string, SeccompProfileSpec>) {
  const asked: string[] = [];
  const lookup = (name: string) => {
    asked.push(name);
    return specs[name];
  };
  return { lookup, asked };
}

t.test('a profile without a base is returned as it is', async (t) => {
  const spec = allowList(['read']);
  t.same(
    resolveBase(spec, () => {
      t.fail('no lookup expected');
      return undefined;
    }),
    spec,
  );
});

t.test('bases resolve recursively, nearest rules win', async (t) => {
  const { lookup, asked } = lookupFrom({
    'runc-v1.1.5': allowList(['clone', 'execve', 'ptrace'], { architectures: ['SCMP_ARCH_X86_64'] }),
    mid: {
      defaultAction: 'SCMP_ACT_ERRNO',
      baseProfileName: 'runc-v1.1.5',
      syscalls: [rule(['ptrace'], 'SCMP_ACT_ERRNO')],
    },
  });
  const resolved = resolveBase(
    {
      defaultAction: 'SCMP_ACT_LOG',
      baseProfileName: 'mid',
      syscalls: [rule(['exit_group'], 'SCMP_ACT_ALLOW')],
    },
    lookup,
  );
  t.same(asked, ['mid', 'runc-v1.1.5']);
  t.same(resolved, {
    defaultAction: 'SCMP_ACT_LOG',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [rule(['clone', 'execve', 'exit_group'], 'SCMP_ACT_ALLOW'), rule(['ptrace'], 'SCMP_ACT_ERRNO')],
  });
  t.equal(resolved.baseProfileName, undefined);
});

t.test('a missing base names the chain', async (t) => {
  t.throws(
    () => resolveBase(allowList(['read'], { baseProfileName: 'gone' }), () => undefined, { self: 'p1' }),
    {
      code: 'ERR_BASE_PROFILE',
      message: /base profile "gone" not found \(chain: p1 -> gone\)/,
    },
  );
});

t.test('cycles are detected', async (t) => {
  const { lookup } = lookupFrom({
    a: allowList(['read'], { baseProfileName: 'b' }),
    b: allowList(['read'], { baseProfileName: 'a' }),
  });
  t.throws(() => resolveBase(allowList([], { baseProfileName: 'a' }), lookup, { self: 'a' }), {
    message: 'baseProfileName cycle: a -> a',
  });
  t.throws(() => resolveBase(allowList([], { baseProfileName: 'a' }), lookup, { self: 'p' }), {
    message: 'baseProfileName cycle: p -> a -> b -> a',
  });
});

t.test('depth is limited', async (t) => {
  const specs: Record<string, SeccompProfileSpec> = {};
  for (let i = 0; i < 20; i++) specs[`b${i}`] = allowList([`s${i}`], { baseProfileName: `b${i + 1}` });
  specs['b20'] = allowList(['read']);
  const { lookup } = lookupFrom(specs);
  t.throws(() => resolveBase(allowList([], { baseProfileName: 'b0' }), lookup, { maxDepth: 4 }), {
    message: /chain deeper than 4/,
  });
  t.ok(resolveBase(allowList([], { baseProfileName: 'b0' }), lookup, { maxDepth: 30 }).syscalls);
});
