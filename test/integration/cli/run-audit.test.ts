// `seccompctl run` names a denied syscall wherever the kernel sends its seccomp records: /dev/kmsg while no
// audit daemon is registered, auditd's log while one is (the kernel then prints none of them to kmsg). Only
// the command's own processes count: a process that ran before it, denied meanwhile, is not named.
// auditd is machine-wide state: run this file under the cluster lock, like the enricher's auditd test.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { KmsgReader } from '../../../src/recorder/kmsg.js';
import { nativeBuilt } from '../../../src/recorder/native.js';
import { auditStatus, auditdMissing as missingAuditd, startPrivateAuditd } from '../../helpers/auditd.js';
import { requires, rootMissing } from '../../helpers/prereq.js';
import { waitFor } from '../../env/wait.js';
import { seccompctl, start } from './run-helpers.js';

const missing =
  rootMissing() ??
  (nativeBuilt() ? undefined : 'needs the addon (npm run build:native)') ??
  (existsSync('/dev/kmsg') ? undefined : 'needs /dev/kmsg');
const auditdMissing = missing ?? missingAuditd();

/** The profile under test: everything allowed but making directories. */
function denyMkdir(t: Test): { dir: string; profile: string } {
  const dir = t.testdir();
  const profile = join(dir, 'no-mkdir.json');
  writeFileSync(
    profile,
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
    }),
  );
  return { dir, profile };
}

// busybox sh forks for `busybox mkdir`: the denial is in a child that is gone before anyone reads the record.
const failingMkdir = (dir: string) => ['sh', '-c', `busybox mkdir ${dir}/made; exit 3`];
const NAMED = /the profile denied:\n\s+mkdir(at)? \(syscall \d+\) in pid (\d+) \(busybox\)\n/;

/**
 * A process started before the command and denied once a second for as long as it runs. Slow on purpose: the
 * kernel rate-limits audit lines to kmsg (about 10 per 5 s), and the command's own line must get through.
 */
async function deniedNeighbour(t: Test, profile: string, dir: string): Promise<number> {
  const script = `$| = 1; print "pid $$\\n"; while (1) { mkdir "${dir}/neighbour"; sleep 1 }`;
  const child: ChildProcess = start(['run', '--profile', profile, '--', 'perl', '-e', script]);
  const exited = new Promise((r) => child.once('exit', r));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const pid = await waitFor(() => Number(/^pid (\d+)$/m.exec(out)?.[1]) || undefined, {
    what: 'the neighbour to start',
    timeoutMs: 60_000,
  });
  return pid;
}

t.test('no audit daemon: the denial is named from /dev/kmsg', requires(t, missing), async (t) => {
  if (auditStatus()['pid'] !== undefined && auditStatus()['pid'] !== '0') {
    t.fail('an audit daemon runs on this machine: this test needs the kernel to print to /dev/kmsg');
    return;
  }
  const { dir, profile } = denyMkdir(t);
  const res = await seccompctl(['run', '--profile', profile, '--', ...failingMkdir(dir)]);
  t.equal(res.code, 3, "the command's exit code");
  t.match(res.stderr, /Operation not permitted/);
  t.match(res.stderr, NAMED, 'mkdir named, in the busybox child');
  t.notOk(existsSync(join(dir, 'made')));
});

t.test(
  "no audit daemon: another process's denials are not the command's",
  requires(t, missing),
  async (t) => {
    const { dir, profile } = denyMkdir(t);
    const neighbour = await deniedNeighbour(t, profile, dir);
    const kmsg = new KmsgReader();
    kmsg.skipExisting();
    t.teardown(() => kmsg.close());
    // Long enough for the neighbour to be denied while the command runs.
    const res = await seccompctl(['run', '--profile', profile, '--', 'sh', '-c', 'sleep 3; exit 4']);
    t.equal(res.code, 4);
    t.ok(
      kmsg.read().some((l) => l.includes(`pid=${neighbour} `) && / syscall=(83|258) /.test(l)),
      'the neighbour was denied meanwhile',
    );
    t.match(res.stderr, /the kernel logged no seccomp denial for it in \/dev\/kmsg/);
    t.notMatch(res.stderr, new RegExp(`pid ${neighbour}\\b`));
  },
);

t.test('auditd running: the denial is named from its log', requires(t, auditdMissing), async (t) => {
  const { dir, profile } = denyMkdir(t);
  const confDir = join(dir, 'auditd');
  mkdirSync(confDir);
  const auditd = await startPrivateAuditd(t, confDir);
  if (auditd === undefined) return;
  const auditLog = auditd.logFile;

  await t.test('named from audit.log; /dev/kmsg has none of it', async (t) => {
    const kmsg = new KmsgReader();
    kmsg.skipExisting();
    t.teardown(() => kmsg.close());
    const res = await seccompctl([
      'run',
      '--audit-log',
      auditLog,
      '--profile',
      profile,
      '--',
      ...failingMkdir(dir),
    ]);
    t.equal(res.code, 3);
    const named = NAMED.exec(res.stderr);
    t.ok(named, `mkdir named: ${res.stderr}`);
    const pid = named?.[2];
    t.match(readFileSync(auditLog, 'utf8'), new RegExp(`type=SECCOMP .* pid=${pid} .*syscall=(83|258) `));
    t.match(
      readFileSync(auditLog, 'utf8'),
      /type=USER .*seccompctl-run-\d+-[0-9a-f]{12}/,
      'run waited for its own marker, sent after the command, to reach the log',
    );
    t.notOk(
      kmsg.read().some((l) => l.includes(`pid=${pid} `)),
      'the kernel printed nothing to kmsg',
    );
  });

  await t.test("another process's denials are not the command's", async (t) => {
    const neighbour = await deniedNeighbour(t, profile, dir);
    const res = await seccompctl([
      'run',
      '--audit-log',
      auditLog,
      '--profile',
      profile,
      '--',
      'sh',
      '-c',
      'sleep 2; exit 4',
    ]);
    t.equal(res.code, 4);
    t.match(readFileSync(auditLog, 'utf8'), new RegExp(`type=SECCOMP .* pid=${neighbour} `));
    t.match(res.stderr, new RegExp(`no seccomp denial for it in ${auditLog.replaceAll('/', '\\/')}`));
  });

  await t.test('a log that is not there: says so, and how to fix it', async (t) => {
    const res = await seccompctl([
      'run',
      '--audit-log',
      join(dir, 'nope.log'),
      '--profile',
      profile,
      '--',
      ...failingMkdir(dir),
    ]);
    t.equal(res.code, 3);
    t.match(
      res.stderr,
      /cannot tell whether the profile denied a syscall: the kernel sends audit records to auditd \(pid \d+\), so seccomp records are in its log, not in \/dev\/kmsg; .*nope\.log does not exist: pass --audit-log FILE/,
    );
  });
});
