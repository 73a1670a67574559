import t from 'tap';
import {
  archOf,
  isKnownSyscall,
  scmpArch,
  syscallName,
  syscallNames,
  syscallNumber,
} from '../../../src/profiles/syscalls/index.js';

const cases = [
  { arch: 'x86_64', name: 'mkdir', nr: 83 },
  { arch: 'x86_64', name: 'mkdirat', nr: 258 },
  { arch: 'x86_64', name: 'read', nr: 0 },
  { arch: 'x86_64', name: 'uname', nr: 63 },
  { arch: 'aarch64', name: 'mkdirat', nr: 34 },
  { arch: 'aarch64', name: 'uname', nr: 160 },
  { arch: 'aarch64', name: 'read', nr: 63 },
] as const;

for (const c of cases) {
  t.test(`${c.name} on ${c.arch}`, async (t) => {
    t.equal(syscallNumber(c.arch, c.name), c.nr);
    t.equal(syscallName(c.arch, c.nr), c.name);
  });
}

t.test('legacy calls exist only where the kernel has them', async (t) => {
  t.equal(syscallNumber('aarch64', 'mkdir'), undefined, 'aarch64 has no mkdir, only mkdirat');
  t.equal(syscallNumber('aarch64', 'open'), undefined);
  t.equal(syscallNumber('x86_64', 'open'), 2);
  t.ok(isKnownSyscall('mkdir'));
  t.notOk(isKnownSyscall('frobnicate'));
});

t.test('tables are large and consistent', async (t) => {
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const names = syscallNames(arch);
    t.ok(names.length > 280, `${arch} has ${names.length} syscalls`);
    t.equal(new Set(names).size, names.length, 'no duplicate names');
  }
});

t.test('architecture names', async (t) => {
  t.equal(archOf('x64'), 'x86_64');
  t.equal(archOf('arm64'), 'aarch64');
  t.throws(() => archOf('ia32'), /unsupported architecture ia32/);
  t.equal(scmpArch('x86_64'), 'SCMP_ARCH_X86_64');
  t.equal(scmpArch('aarch64'), 'SCMP_ARCH_AARCH64');
});
