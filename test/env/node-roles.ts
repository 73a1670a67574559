// The node's own roles for dev-node as local processes, the way `SPO_DEV_OPERATOR=1 scripts/dev up` runs them
// next to the webhook and manager: `seccompctl recorder` (eBPF) and `seccompctl daemon` with its recording
// controller on that recorder's socket, as the spod DaemonSet would on a real node. Plain `scripts/dev up` does
// not start them: recording tests start a recorder and a daemon of their own, and two daemons for one node
// would race over the same profile files, node statuses and recorded pods.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { nativeBuilt } from '../../src/recorder/native.js';
import { get } from './http.js';
import { criEndpoint, nodeName, paths, repoRoot } from './layout.js';
import { assertRunning, runningPid, startDaemon, stopDaemon } from './processes.js';
import { waitFor } from './wait.js';

export const recorderDaemon = 'spo-recorder';
export const nodeDaemon = 'spo-daemon';

function envPort(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name} is not a TCP port`);
  return n;
}

/** The daemon's probes and metrics (plain HTTP on loopback, like the demo's own daemon used to be). */
export const nodeRolePorts = {
  daemon: envPort('SPO_DEV_DAEMON_PORT', 18085),
};

/** Under .dev/state, so `scripts/dev down` wipes it with the cluster it belongs to. */
export const nodeRolePaths = {
  dir: join(paths.state, 'node'),
  recorderSocket: join(paths.state, 'node/recorder.sock'),
  recorderState: join(paths.state, 'node/recorder'),
  // Not the recorder's default (/sys/fs/bpf/seccompctl-recorder), which the recorders tests start use: each
  // recorder owns its pin directory and removes every pin in it.
  bpfPinDir: '/sys/fs/bpf/seccompctl-dev-recorder',
};

export const daemonUrl = () => `http://127.0.0.1:${nodeRolePorts.daemon}`;

/** What the recorder needs that `scripts/dev up` cannot make, with the fix; undefined when all is there. */
export function nodeRolesMissing(): string | undefined {
  if (!existsSync('/sys/kernel/btf/vmlinux'))
    return 'the eBPF recorder needs kernel BTF (/sys/kernel/btf/vmlinux)';
  if (!nativeBuilt()) return 'the recorder addon is not built: npm run build:native';
  return undefined;
}

const cli = [process.execPath, '--import=tsx', join(repoRoot, 'src/cli/main.ts')];

export function startRecorder(): number {
  mkdirSync(nodeRolePaths.dir, { recursive: true });
  // A socket left by a recorder that was killed would look like a ready one.
  rmSync(nodeRolePaths.recorderSocket, { force: true });
  return startDaemon(
    recorderDaemon,
    [
      ...cli,
      'recorder',
      `--socket=${nodeRolePaths.recorderSocket}`,
      `--state-dir=${nodeRolePaths.recorderState}`,
      `--bpf-pin-dir=${nodeRolePaths.bpfPinDir}`,
    ],
    // The local containerd, not a host runtime: the recorder resolves containers through it.
    { SPO_CRI_ENDPOINT: criEndpoint },
  );
}

export function startNodeDaemon(): number {
  return startDaemon(
    nodeDaemon,
    [
      ...cli,
      'daemon',
      `--kubeconfig=${paths.kubeconfig}`,
      `--node-name=${nodeName}`,
      `--kubelet-dir=${paths.kubeletDir}`,
      '--host=127.0.0.1',
      `--port=${nodeRolePorts.daemon}`,
      '--insecure-metrics',
      `--recorder-socket=${nodeRolePaths.recorderSocket}`,
    ],
    { SPO_CRI_ENDPOINT: criEndpoint },
  );
}

/** A role that exited will not become ready: its log tail (from assertRunning) says why, at once. */
const exited = (err: unknown): boolean => err instanceof Error && / is not running; /.test(err.message);

export async function waitRecorderReady(): Promise<void> {
  await waitFor(
    () => {
      assertRunning(recorderDaemon);
      return existsSync(nodeRolePaths.recorderSocket);
    },
    // Loading the eBPF program and its self-test take a while on a busy machine.
    {
      what: 'the recorder to listen (eBPF program loaded, self-test passed)',
      timeoutMs: 120_000,
      failFast: exited,
    },
  );
}

export async function waitNodeDaemonReady(): Promise<void> {
  await waitFor(
    async () => {
      assertRunning(nodeDaemon);
      return (await get(`${daemonUrl()}/readyz`, { timeoutMs: 2_000 })).status === 200;
    },
    {
      what: 'the daemon to be ready (profiles synced, recording controller started)',
      timeoutMs: 120_000,
      failFast: exited,
    },
  );
}

/** Idempotent: starts whichever of the two is not running, the recorder first (the daemon connects to it). */
export async function ensureNodeRoles(): Promise<{ started: string[] }> {
  const missing = nodeRolesMissing();
  if (missing !== undefined) throw new Error(`cannot start the recorder for ${nodeName}: ${missing}`);
  const started: string[] = [];
  if (runningPid(recorderDaemon) === undefined) {
    startRecorder();
    started.push(recorderDaemon);
  }
  await waitRecorderReady();
  if (runningPid(nodeDaemon) === undefined) {
    startNodeDaemon();
    started.push(nodeDaemon);
  }
  await waitNodeDaemonReady();
  return { started };
}

/** The daemon first (it holds the recorder's socket), then the recorder, then any pins it left. */
export async function stopNodeRoles(): Promise<void> {
  await stopDaemon(nodeDaemon);
  await stopDaemon(recorderDaemon);
  // Pins outlive the process by design (a restart resumes); after `down` nothing may keep the program attached.
  rmSync(nodeRolePaths.bpfPinDir, { recursive: true, force: true });
}
