import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { removeProfileFile, writeProfileFile } from '../../../src/daemon/profile-files.js';
import { profileLocation } from '../../../src/daemon/profile-path.js';
import { requires, rootMissing } from '../../helpers/prereq.js';

const loc = profileLocation('my-namespace', 'profile1');

t.test('create, unchanged, update, remove', async (t) => {
  const root = t.testdir();
  t.equal(await writeProfileFile(root, loc, '{"a":1}\n'), 'created');
  const file = join(root, 'operator/my-namespace/profile1.json');
  t.equal(readFileSync(file, 'utf8'), '{"a":1}\n');
  t.equal(statSync(file).mode & 0o777, 0o644);
  t.equal(statSync(join(root, 'operator')).mode & 0o777, 0o744);
  t.equal(statSync(join(root, 'operator/my-namespace')).mode & 0o777, 0o744);
  const inode = statSync(file).ino;
  t.equal(await writeProfileFile(root, loc, '{"a":1}\n'), 'unchanged');
  t.equal(statSync(file).ino, inode, 'unchanged content is not rewritten');
  t.equal(await writeProfileFile(root, loc, '{"a":2}\n'), 'updated');
  t.equal(readFileSync(file, 'utf8'), '{"a":2}\n');
  t.same(readdirSync(join(root, 'operator/my-namespace')), ['profile1.json'], 'no temp files left');
  t.equal(await removeProfileFile(root, loc), 'removed');
  t.same(readdirSync(join(root, 'operator')), [], 'empty namespace directory removed');
  t.equal(await removeProfileFile(root, loc), 'absent');
});

t.test('a reader never sees a partial file', async (t) => {
  const root = t.testdir();
  const versions = [0, 1].map((v) => `${JSON.stringify({ v, pad: String(v).repeat(512 * 1024) })}\n`);
  await writeProfileFile(root, loc, versions[0]!);
  const file = join(root, 'operator/my-namespace/profile1.json');
  let stop = false;
  let reads = 0;
  const reader = (async () => {
    while (!stop) {
      const text = readFileSync(file, 'utf8');
      if (!versions.includes(text)) throw new Error(`partial read of ${text.length} bytes`);
      reads++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  for (let i = 0; i < 40; i++) await writeProfileFile(root, loc, versions[i % 2 === 0 ? 1 : 0]!);
  stop = true;
  await reader;
  t.ok(reads > 0, `${reads} reads, all whole`);
});

t.test('symlinks inside the root are refused, nothing is written outside', async (t) => {
  const root = t.testdir({ outside: {} });
  const outside = join(root, 'outside');
  const seccomp = join(root, 'seccomp');
  mkdirSync(join(seccomp, 'operator'), { recursive: true });
  symlinkSync(outside, join(seccomp, 'operator/my-namespace'));
  await t.rejects(writeProfileFile(seccomp, loc, '{}\n'), {
    code: 'ERR_PROFILE_WRITE',
    message: /not a directory/,
  });
  t.same(readdirSync(outside), []);

  const root2 = t.testdir({ target: 'secret' });
  mkdirSync(join(root2, 'seccomp/operator/my-namespace'), { recursive: true });
  symlinkSync(join(root2, 'target'), join(root2, 'seccomp/operator/my-namespace/profile1.json'));
  await t.rejects(writeProfileFile(join(root2, 'seccomp'), loc, '{}\n'), { message: /not a regular file/ });
  t.equal(readFileSync(join(root2, 'target'), 'utf8'), 'secret');
  t.ok(lstatSync(join(root2, 'seccomp/operator/my-namespace/profile1.json')).isSymbolicLink());
});

t.test('a failed write leaves the previous file intact', requires(t, rootMissing()), async (t) => {
  // A 64 KiB tmpfs makes a large write fail for real (ENOSPC) half-way through.
  const root = mkdtempSync(join(tmpdir(), 'spo-enospc-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', root]);
  t.teardown(() => {
    execFileSync('umount', [root]);
    rmSync(root, { recursive: true });
  });
  await writeProfileFile(root, loc, 'old\n');
  await t.rejects(writeProfileFile(root, loc, 'x'.repeat(1024 * 1024)), { code: 'ENOSPC' });
  t.equal(readFileSync(join(root, 'operator/my-namespace/profile1.json'), 'utf8'), 'old\n');
  t.same(readdirSync(join(root, 'operator/my-namespace')), ['profile1.json'], 'temp file cleaned up');
});
