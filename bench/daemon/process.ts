import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface DaemonProcess {
  readonly pid: number;
  /** Resolves at the daemon's "daemon synced" log line */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

/** `seccompctl daemon` as a real process: from a compiled entry when given, else the sources through tsx. */
export function startDaemon(entry: string | undefined, args: readonly string[]): DaemonProcess {
  const repo = join(import.meta.dirname, '../..');
  const argv = entry !== undefined ? [entry] : ['--import', 'tsx', join(repo, 'src/cli/main.ts')];
  const child = spawn(process.execPath, [...argv, 'daemon', ...args], {
    cwd: repo,
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
