import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export interface DaemonProcess {
  readonly pid: number;
  /** Resolves at the daemon's "daemon synced" log line */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

export interface DaemonOptions {
  /** Merged over this process's environment (NODE_OPTIONS, SPO_BENCH_MEMORY_FILE). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * `seccompctl daemon` as a real process: from a compiled entry when given, else the sources through tsx. The
 * memory probe (memory-probe.ts, compiled next to the entry) is loaded when it is there.
 */
export function startDaemon(
  entry: string | undefined,
  args: readonly string[],
  options: DaemonOptions = {},
): DaemonProcess {
  const repo = join(import.meta.dirname, '../..');
  const probe =
    entry !== undefined
      ? resolve(repo, dirname(entry), '../../bench/daemon/memory-probe.js')
      : join(repo, 'bench/daemon/memory-probe.ts');
  const argv = [
    ...(entry !== undefined ? [] : ['--import', 'tsx']),
    ...(existsSync(probe) ? ['--import', probe] : []),
    entry ?? join(repo, 'src/cli/main.ts'),
  ];
  const child = spawn(process.execPath, [...argv, 'daemon', ...args], {
    cwd: repo,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const synced = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`daemon exited (${code}) before it synced`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"daemon synced"')) resolve();
    });
  });
  return {
    pid: child.pid as number,
    synced,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
