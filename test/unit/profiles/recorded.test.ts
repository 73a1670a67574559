import t from 'tap';
import { RECORDED_BASES } from '../../../src/profiles/builtin-bases.generated.js';
import {
  containerSyscalls,
  profileFromSyscalls,
  RUNTIME_TIMING_SYSCALLS,
} from '../../../src/profiles/recorded.js';
import { ARCHES, syscallNumber } from '../../../src/profiles/syscalls/index.js';

t.test('containerSyscalls: what was seen plus the runtime calls that depend on timing', async (t) => {
  t.same(containerSyscalls(['mkdir', 'read', 'futex']), [
    'clone',
    'epoll_pwait',
    'futex',
    'getpid',
    'gettid',
    'mkdir',
    'nanosleep',
    'read',
    'rt_sigreturn',
    'sched_yield',
    'tgkill',
  ]);
  t.same(containerSyscalls([]), [...RUNTIME_TIMING_SYSCALLS].sort(), 'sorted, unique');
});

t.test('the runtime calls exist on every architecture we record', async (t) => {
  for (const arch of ARCHES)
    for (const name of RUNTIME_TIMING_SYSCALLS)
      t.ok(syscallNumber(arch, name) !== undefined, `${name} on ${arch}`);
});

t.test('the ones the shipped runc base saw are a subset: the rest are what it could miss', async (t) => {
  const base = new Set(RECORDED_BASES['runc-v1.1.5']?.syscalls ?? []);
  t.ok(base.has('futex') && base.has('rt_sigreturn'), 'the base recording saw futex and rt_sigreturn');
  t.notOk(base.has('tgkill'), 'but not the preemption signal: a single recording misses it');
});

t.test('profileFromSyscalls: one or several architectures', async (t) => {
  t.same(profileFromSyscalls({ name: 'p', arch: 'x86_64', syscalls: ['read'] }).spec.architectures, [
    'SCMP_ARCH_X86_64',
  ]);
  t.same(
    profileFromSyscalls({ name: 'p', arch: ['x86_64', 'aarch64', 'x86_64'], syscalls: ['read'] }).spec
      .architectures,
    ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
  );
  t.same(
    profileFromSyscalls({
      name: 'p',
      namespace: 'ns',
      arch: 'x86_64',
      syscalls: [],
      labels: { a: 'b' },
    }),
    {
      apiVersion: 'security-profiles-operator.x-k8s.io/v1beta1',
      kind: 'SeccompProfile',
      metadata: { name: 'p', namespace: 'ns', labels: { a: 'b' } },
      spec: { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'] },
    },
    'nothing seen: no allow rule',
  );
});
