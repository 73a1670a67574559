import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { paths } from '../env/layout.js';

const repoRoot = join(import.meta.dirname, '..', '..');

export interface RoleProcess {
  readonly child: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
  /** Resolves with the first JSON log line that matches. */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

/** Starts `seccompctl <role>` from the sources as a real process and collects its JSON log lines. */
export function startRole(args: readonly string[], env: NodeJS.ProcessEnv = {}): RoleProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }> = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { msg: text };
    }
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    waitForLog(match, timeoutMs = 60_000) {
      const found = lines.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        let settled = false;
        const settle = (fn: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          fn();
        };
        const timer = setTimeout(() => {
          settle(() =>
            reject(
              new Error(
                `timed out waiting for a log line from seccompctl ${args[0]}; stderr: ${stderr.slice(-2000)}`,
              ),
            ),
          );
        }, timeoutMs);
        waiters.push({ match, resolve: (l) => settle(() => resolve(l)) });
        void exited.then((code) =>
          settle(() =>
            reject(new Error(`seccompctl ${args[0]} exited with ${code}; stderr: ${stderr.slice(-2000)}`)),
          ),
        );
      });
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** `seccompctl daemon` for the local cluster's node, on a free port, resolved once its caches have synced. */
export async function startNodeDaemon(
  cluster: { nodeName: string; kubeletDir: string },
  extraArgs: readonly string[] = [],
): Promise<{ daemon: RoleProcess; address: string }> {
  const daemon = startRole([
    'daemon',
    '--kubeconfig',
    paths.kubeconfig,
    '--node-name',
    cluster.nodeName,
    '--kubelet-dir',
    cluster.kubeletDir,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    ...extraArgs,
  ]);
  const listening = await daemon.waitForLog((l) => l['msg'] === 'daemon listening');
  await daemon.waitForLog((l) => l['msg'] === 'daemon synced');
  return { daemon, address: String(listening['address']) };
}
