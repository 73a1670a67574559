import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseAllDocuments } from 'yaml';

const REPO = join(import.meta.dirname, '../..');
/** Where the daemon's V8 flags are set for real; the bench reads them from there so the two cannot drift. */
export const DAEMONSET_MANIFEST = join(REPO, 'manifests/base/daemon-daemonset.yaml');

interface ContainerSpec {
  name?: string;
  env?: { name?: string; value?: string }[];
}

/** NODE_OPTIONS of the `daemon` container in the DaemonSet manifest ('' when it sets none). */
export function daemonSetNodeOptions(manifest = DAEMONSET_MANIFEST): string {
  for (const doc of parseAllDocuments(readFileSync(manifest, 'utf8'))) {
    const obj = doc.toJS() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: ContainerSpec[] } } };
    } | null;
    if (obj?.kind !== 'DaemonSet') continue;
    const daemon = obj.spec?.template?.spec?.containers?.find((c) => c.name === 'daemon');
    if (daemon === undefined) continue;
    return daemon.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
  }
  throw new Error(`${manifest}: no DaemonSet with a "daemon" container`);
}

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
  const probe =
    entry !== undefined
      ? resolve(REPO, dirname(entry), '../../bench/daemon/memory-probe.js')
      : join(REPO, 'bench/daemon/memory-probe.ts');
  const argv = [
    ...(entry !== undefined ? [] : ['--import', 'tsx']),
    ...(existsSync(probe) ? ['--import', probe] : []),
    entry ?? join(REPO, 'src/cli/main.ts'),
  ];
  const child = spawn(process.execPath, [...argv, 'daemon', ...args], {
    cwd: REPO,
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
