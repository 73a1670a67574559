import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { seccompctl } from '../../helpers/cli.js';

const goldenDir = join(import.meta.dirname, '../../fixtures/cli/merge');

// Each fixture directory holds numbered inputs and the raw JSON the union must be, byte for byte.
for (const name of readdirSync(goldenDir)) {
  t.test(`golden merge: ${name}`, async (t) => {
    const dir = t.testdir();
    cpSync(join(goldenDir, name), dir, { recursive: true });
    const inputs = readdirSync(dir)
      .filter((f) => /^\d/.test(f))
      .sort();
    const res = await seccompctl(['merge', ...inputs, '-o', 'm.json'], dir);
    t.equal(res.code, 0, res.stderr);
    t.equal(readFileSync(join(dir, 'm.json'), 'utf8'), readFileSync(join(dir, 'expected.json'), 'utf8'));
    const covered = await seccompctl(['merge', 'm.json', ...inputs, '--check'], dir);
    t.equal(covered.code, 0, 'the union covers every input');
  });
}

t.test('--check exits 1 and lists what the first profile misses', async (t) => {
  const dir = t.testdir();
  cpSync(join(goldenDir, 'recordings'), dir, { recursive: true });
  const res = await seccompctl(['merge', '1-nginx.yaml', '2-replica.json', '--check'], dir);
  t.equal(res.code, 1);
  t.match(res.stdout, /1-nginx\.yaml does not cover the others/);
  for (const name of ['close', 'openat', 'sendfile'])
    t.match(res.stdout, new RegExp(`\\+ ${name}: SCMP_ACT_ALLOW`));
  t.notMatch(res.stdout, /\+ read/);
});

t.test('output format follows the output file, then --format', async (t) => {
  const dir = t.testdir();
  cpSync(join(goldenDir, 'recordings'), dir, { recursive: true });
  t.equal((await seccompctl(['merge', '1-nginx.yaml', '2-replica.json', '-o', 'm.yaml'], dir)).code, 0);
  const yaml = readFileSync(join(dir, 'm.yaml'), 'utf8');
  t.match(
    yaml,
    /^apiVersion: security-profiles-operator.x-k8s.io\/v1beta1\nkind: SeccompProfile\nmetadata:\n {2}name: rec-nginx-0\n {2}namespace: shop/,
  );
  const named = await seccompctl(
    ['merge', '2-replica.json', '1-nginx.yaml', '--format', 'cr', '--name', 'rec-nginx'],
    dir,
  );
  t.match(named.stdout, /name: rec-nginx\n/);
});

t.test('bad input: the file and the field are named, nothing is written', async (t) => {
  const dir = t.testdir({
    'good.json': '{"defaultAction":"SCMP_ACT_ERRNO"}',
    'bad.json':
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["a"],"action":"A"},{"names":["b"],"action":"SCMP_ACT_ALLOW"},{"names":["c"],"action":"SCMP_ACT_ALLOW"},{"names":["d"],"action":"NOPE"}]}',
  });
  const res = await seccompctl(['merge', 'good.json', 'bad.json', '-o', 'out.json'], dir);
  t.equal(res.code, 1);
  t.match(res.stderr, /bad\.json: syscalls\[0\]\.action: must be one of/);
  t.match(res.stderr, /bad\.json: syscalls\[3\]\.action: must be one of/);
  t.same(readdirSync(dir).sort(), ['bad.json', 'good.json'], 'no output and no temp file left');
});

t.test('usage errors exit 2', async (t) => {
  const dir = t.testdir({ 'a.json': '{"defaultAction":"SCMP_ACT_ERRNO"}' });
  t.equal((await seccompctl(['merge', 'a.json'], dir)).code, 2);
  t.equal((await seccompctl(['merge', 'a.json', 'a.json', '--frobnicate'], dir)).code, 2);
  t.equal((await seccompctl(['merge', 'a.json', 'a.json', '--format', 'xml'], dir)).code, 2);
  t.equal((await seccompctl(['merge', 'a.json', 'a.json', '--check', '-o', 'x'], dir)).code, 2);
});

t.test('bases given with --base are resolved before merging', async (t) => {
  const dir = t.testdir({
    'runc.json':
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["execve","clone"],"action":"SCMP_ACT_ALLOW"}]}',
    'app.yaml': `apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata: {name: app}
spec:
  defaultAction: SCMP_ACT_ERRNO
  baseProfileName: runc
  syscalls: [{action: SCMP_ACT_ALLOW, names: [exit_group]}]
`,
    'other.json':
      '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}',
  });
  const missing = await seccompctl(['merge', 'app.yaml', 'other.json'], dir);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /base profile "runc" not found \(chain: app -> runc\)/);
  const res = await seccompctl(
    ['merge', 'app.yaml', 'other.json', '--base', 'runc.json', '--format', 'raw'],
    dir,
  );
  t.equal(res.code, 0, res.stderr);
  t.same(JSON.parse(res.stdout).syscalls[0].names, ['clone', 'execve', 'exit_group', 'read']);
});
