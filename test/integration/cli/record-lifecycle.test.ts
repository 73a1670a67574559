import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { bpfLinksOf, recorderSkip } from '../recorder/prereqs.js';
import { allowed, finish, linkExists, seccompctl, start, untilAttached } from './run-helpers.js';

const skip = recorderSkip();

t.test('record: the issue example, raw format, exit code passed through', { skip }, async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'p.json');
  const r = await seccompctl([
    'record',
    '--format',
    'raw',
    '-o',
    out,
    '--',
    'sh',
    '-c',
    `mkdir ${dir}/x; uname; exit 3`,
  ]);
  t.equal(r.code, 3);
  const raw = JSON.parse(readFileSync(out, 'utf8')) as {
    defaultAction: string;
    syscalls: { names: string[] }[];
  };
  t.equal(raw.defaultAction, 'SCMP_ACT_ERRNO');
  const names = raw.syscalls.flatMap((s) => s.names);
  t.ok(names.includes('mkdir') || names.includes('mkdirat'));
  t.ok(names.includes('uname'));
});

t.test('two records at once do not mix', { skip }, async (t) => {
  const dir = t.testdir();
  const [a, b] = await Promise.all([
    seccompctl(['record', '-o', join(dir, 'a.yaml'), '--', 'sh', '-c', 'sleep 1; uname']),
    seccompctl(['record', '-o', join(dir, 'b.yaml'), '--', 'sh', '-c', `sleep 1; mkdir ${dir}/made`]),
  ]);
  t.equal(a.code, 0, a.stderr);
  t.equal(b.code, 0, b.stderr);
  const na = allowed(join(dir, 'a.yaml'));
  const nb = allowed(join(dir, 'b.yaml'));
  t.ok(na.includes('uname'));
  t.notOk(na.includes('mkdir') || na.includes('mkdirat'));
  t.ok(nb.includes('mkdir') || nb.includes('mkdirat'));
  t.notOk(nb.includes('uname'));
});

t.test(
  'record killed with SIGKILL leaves no program attached, and takes its command along',
  { skip },
  async (t) => {
    const dir = t.testdir();
    const child = start([
      'record',
      '-o',
      join(dir, 'p.yaml'),
      '--',
      'sh',
      '-c',
      'echo started; exec sleep 60',
    ]);
    const done = finish(child);
    const links = await untilAttached(child.pid!);
    t.ok(links.every(linkExists), 'attached while recording');
    child.kill('SIGKILL');
    await done;
    for (let i = 0; i < 100 && links.some(linkExists); i++) await new Promise((r) => setTimeout(r, 50));
    t.notOk(links.some(linkExists), 'the link went with the process');
    const sleeping = spawnSync('pgrep', ['-f', '^sleep 60$']);
    t.not(sleeping.status, 0, 'the recorded command was killed too (no "sleep 60" left)');
  },
);

t.test('Ctrl-C stops recording cleanly and still writes the profile', { skip }, async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'p.yaml');
  const child = start(['record', '-o', out, '--', 'sh', '-c', 'uname; exec sleep 60']);
  const done = finish(child);
  await new Promise<void>((resolve) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('Linux')) resolve();
    });
  });
  child.kill('SIGINT');
  const r = await done;
  t.equal(r.code, 130, `128 + SIGINT: ${r.stderr}`);
  t.match(r.stderr, /interrupted/);
  t.ok(allowed(out).includes('uname'), 'what ran before Ctrl-C is in the profile');
  t.same(bpfLinksOf(child.pid!), []);
});

t.test('clear errors: bad profile path, missing command', { skip }, async (t) => {
  const r = await seccompctl(['run', '--profile', '/nonexistent.yaml', '--', 'true']);
  t.equal(r.code, 1);
  t.match(r.stderr, /nonexistent\.yaml: cannot read: no such file/);
  const u = await seccompctl(['record', '-o', join(t.testdir(), 'p.yaml')]);
  t.equal(u.code, 2);
  t.match(u.stderr, /needs a COMMAND/);
  const nf = await seccompctl(['record', '-o', join(t.testdir(), 'p.yaml'), '--', 'no-such-command-xyz']);
  t.equal(nf.code, 1);
  t.match(nf.stderr, /command not found/);
});
