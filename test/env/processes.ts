// Daemons started by `up` outlive the command that started them, so they are
// tracked by pid files holding the pid and its start time: `down` then stops
// exactly what `up` started, and a recycled pid is never mistaken for ours.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { paths } from './layout.js';
import { waitFor } from './wait.js';

interface PidRecord {
  pid: number;
  startTime: string;
  argv: string[];
}

function pidFile(name: string): string {
  return join(paths.pids, `${name}.json`);
}

/** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined if gone or a zombie. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: parse after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

function readRecord(name: string): PidRecord | undefined {
  try {
    return JSON.parse(readFileSync(pidFile(name), 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

/** The pid of our daemon `name` if it is still the process we started. */
export function runningPid(name: string): number | undefined {
  const rec = readRecord(name);
  if (!rec) return undefined;
  return processStartTime(rec.pid) === rec.startTime ? rec.pid : undefined;
}

export function logPath(name: string): string {
  return join(paths.logs, `${name}.log`);
}

/** Spawns a detached daemon with stdout/stderr appended to `.dev/logs/<name>.log`. */
export function startDaemon(name: string, argv: string[], env: NodeJS.ProcessEnv = {}): number {
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.pids, { recursive: true });
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error(`no command for ${name}`);
  const fd = openSync(logPath(name), 'a');
  writeSync(fd, `\n=== ${new Date().toISOString()} starting: ${argv.join(' ')}\n`);
  try {
    const child = spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env },
    });
    if (child.pid === undefined) throw new Error(`failed to start ${name} (${cmd})`);
    child.on('error', () => {});
    child.unref();
    const startTime = processStartTime(child.pid);
    if (!startTime) throw new Error(`${name} exited at once; see ${logPath(name)}`);
    writeFileSync(pidFile(name), JSON.stringify({ pid: child.pid, startTime, argv } satisfies PidRecord));
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; waits until the process is gone. */
export async function stopDaemon(name: string, graceMs = 10_000): Promise<boolean> {
  const pid = runningPid(name);
  rmSync(pidFile(name), { force: true });
  if (pid === undefined) return false;
  await stopPid(pid, name, graceMs);
  return true;
}

export async function stopPid(pid: number, what: string, graceMs = 10_000): Promise<void> {
  const startTime = processStartTime(pid);
  if (!startTime) return;
  const alive = () => processStartTime(pid) === startTime;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  try {
    await waitFor(() => !alive(), { what: `${what} (pid ${pid}) to exit`, timeoutMs: graceMs });
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
    await waitFor(() => !alive(), { what: `${what} (pid ${pid}) to die after SIGKILL`, timeoutMs: 10_000 });
  }
}

/** Throws with the tail of the daemon's log if it is no longer running: a clear early failure beats a timeout. */
export function assertRunning(name: string): void {
  if (runningPid(name) !== undefined) return;
  const log = logPath(name);
  const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-25).join('\n') : '(no log)';
  throw new Error(`${name} is not running; last lines of ${log}:\n${tail}`);
}

/** All pids whose command line contains `needle` (used to find containerd shims of our socket). */
export function pidsWithArg(needle: string): number[] {
  const out: number[] = [];
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.includes(needle)) out.push(Number(entry));
    } catch {}
  }
  return out;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
