// A private auditd for tests that need the kernel's audit records in a log file. auditd is machine-wide
// state (while it runs the kernel sends it every audit record instead of /dev/kmsg), so callers hold the
// cluster lock and keep the window short; the teardown restores the kernel's audit `enabled` flag.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { waitFor } from '../env/wait.js';

export function auditdMissing(): string | undefined {
  return existsSync('/usr/sbin/auditd') && existsSync('/usr/sbin/auditctl')
    ? undefined
    : 'needs auditd (apt-get install auditd)';
}

/** `auditctl -s` as key/value pairs: `pid` is the registered audit daemon (0: none). */
export function auditStatus(): Record<string, string> {
  const out = spawnSync('auditctl', ['-s'], { encoding: 'utf8' }).stdout ?? '';
  return Object.fromEntries(out.split('\n').map((l) => l.split(' ') as [string, string]));
}

/**
 * Starts auditd in the foreground with Debian's configuration but `log_file` in `dir`, waits until the
 * kernel has registered it, and stops it again at the end of `t`. Fails `t` and returns undefined when
 * another audit daemon already runs (this one would not receive the records).
 */
export async function startPrivateAuditd(t: Test, dir: string): Promise<{ logFile: string } | undefined> {
  if (auditStatus()['pid'] !== '0') {
    t.fail('an audit daemon already runs; this test starts its own');
    return undefined;
  }
  const logFile = join(dir, 'audit.log');
  const conf = readFileSync('/etc/audit/auditd.conf', 'utf8').replace(
    /^log_file\s*=.*$/m,
    `log_file = ${logFile}`,
  );
  writeFileSync(join(dir, 'auditd.conf'), conf);
  const enabledBefore = auditStatus()['enabled'] ?? '0';
  const auditd = spawn('/usr/sbin/auditd', ['-n', '-c', dir], { stdio: 'ignore' });
  const exited = new Promise((resolve) => auditd.once('exit', resolve));
  t.teardown(async () => {
    auditd.kill('SIGTERM');
    await exited;
    spawnSync('auditctl', ['-e', enabledBefore]);
    await waitFor(() => auditStatus()['pid'] === '0', { what: 'auditd gone from the kernel' });
  });
  await waitFor(() => auditStatus()['pid'] === String(auditd.pid), {
    what: 'auditd registered with the kernel',
  });
  return { logFile };
}
