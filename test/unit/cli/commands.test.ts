import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { seccompctl } from '../../helpers/cli.js';

const seedDir = join(import.meta.dirname, '../../fixtures/seeds');

t.test('every listed command has --help', async (t) => {
  const dir = t.testdir();
  const overview = await seccompctl(['--help'], dir);
  t.equal(overview.code, 0);
  for (const command of COMMANDS) {
    t.ok(
      overview.stdout.includes(
        `  ${command.name.padEnd(Math.max(...COMMANDS.map((c) => c.name.length)))}  ${command.summary}\n`,
      ),
      `${command.name} listed`,
    );
    const res = await seccompctl([command.name, '--help'], dir);
    t.equal(res.code, 0, command.name);
    t.match(res.stdout, new RegExp(`^Usage: seccompctl ${command.name}`));
    t.match(res.stdout, /Exit codes?:/, `${command.name} --help documents its exit codes`);
  }
  t.equal((await seccompctl([], dir)).code, 2, 'no command is a usage error');
  const unknown = await seccompctl(['frob'], dir);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown command "frob"/);
});

t.test('validate', async (t) => {
  const dir = t.testdir({
    'bad.yaml': `apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata: {name: p}
spec:
  defaultAction: SCMP_ACT_ERRNO
  syscalls:
    - {names: [read], action: SCMP_ACT_ALLOW}
    - {names: [write], action: SCMP_ACT_ALLOW}
    - {names: [close], action: SCMP_ACT_ALLOW}
    - {names: [open], action: SCMP_ACT_OPEN}
`,
    'empty.yaml': '',
    'multi.yaml': `${readFileSync(join(seedDir, 'profile1.yaml'), 'utf8')}---\n${readFileSync(join(seedDir, 'recording-bpf.yaml'), 'utf8')}`,
  });
  writeFileSync(join(dir, 'binary'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x00, 0x00]));
  writeFileSync(join(dir, 'big.yaml'), `x: "${'a'.repeat(10 * 1024 * 1024)}"\n`);
  const bad = await seccompctl(['validate', 'bad.yaml'], dir);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^bad\.yaml: spec\.syscalls\[3\]\.action: must be one of SCMP_ACT_KILL, /);
  const multi = await seccompctl(['validate', 'multi.yaml'], dir);
  t.equal(multi.code, 0, multi.stderr);
  t.equal(
    multi.stdout,
    'multi.yaml: document 1: ok (SeccompProfile "profile1")\nmulti.yaml: document 2: ok (ProfileRecording "my-recording")\n',
  );
  for (const [file, message] of [
    ['empty.yaml', /empty\.yaml: no document found/],
    ['binary', /binary: binary data/],
    ['big.yaml', /big\.yaml: file is \d+ bytes; profiles are limited to/],
    ['missing.yaml', /missing\.yaml: cannot read: no such file/],
  ] as const) {
    const res = await seccompctl(['validate', file], dir);
    t.equal(res.code, 1, file);
    t.match(res.stderr, message);
  }
  const all = await seccompctl(['validate', 'multi.yaml', 'bad.yaml'], dir);
  t.equal(all.code, 1, 'one bad file fails the run');
  t.match(all.stdout, /multi\.yaml: document 1: ok/, 'good files are still reported');
});

t.test('convert round-trips through files', async (t) => {
  const dir = t.testdir({ 'profile1.yaml': readFileSync(join(seedDir, 'profile1.yaml'), 'utf8') });
  t.equal((await seccompctl(['convert', 'profile1.yaml', '-o', 'p.json'], dir)).code, 0);
  t.same(JSON.parse(readFileSync(join(dir, 'p.json'), 'utf8')), { defaultAction: 'SCMP_ACT_LOG' });
  const back = await seccompctl(
    ['convert', 'p.json', '--name', 'profile1', '--namespace', 'my-namespace', '--to', 'cr'],
    dir,
  );
  t.equal(
    back.stdout,
    readFileSync(join(dir, 'profile1.yaml'), 'utf8').replace(
      '  namespace: my-namespace\n  name: profile1\n',
      '  name: profile1\n  namespace: my-namespace\n',
    ),
  );
});

t.test('convert refuses what it cannot carry', async (t) => {
  const dir = t.testdir({
    'errno.json': '{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38}',
    'based.yaml': readFileSync(join(seedDir, 'profile1-runc-base.yaml'), 'utf8'),
  });
  const errno = await seccompctl(['convert', 'errno.json'], dir);
  t.equal(errno.code, 1);
  t.match(errno.stderr, /defaultErrnoRet: not representable in a SeccompProfile resource/);
  const based = await seccompctl(['convert', 'based.yaml', '--to', 'raw'], dir);
  t.equal(based.code, 1);
  t.match(based.stderr, /baseProfileName "runc-v1\.0\.0" must be resolved .* --base FILE/);
});

t.test('diff', async (t) => {
  const dir = t.testdir({
    'a.json':
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}',
    'b.json':
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["write"],"action":"SCMP_ACT_ALLOW"},{"names":["read","mkdir"],"action":"SCMP_ACT_ALLOW"}]}',
    'c.json':
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}',
  });
  const same = await seccompctl(['diff', 'a.json', 'c.json', '--exit-code'], dir);
  t.same([same.code, same.stdout], [0, 'no differences\n']);
  const changed = await seccompctl(['diff', 'a.json', 'b.json'], dir);
  t.same([changed.code, changed.stdout], [0, '+ mkdir: SCMP_ACT_ALLOW (was default SCMP_ACT_ERRNO)\n']);
  t.equal((await seccompctl(['diff', 'a.json', 'b.json', '--exit-code'], dir)).code, 3);
  t.equal((await seccompctl(['diff', 'a.json'], dir)).code, 2);
});
