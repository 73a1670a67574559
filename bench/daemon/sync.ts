// The node daemon against the real apiserver of the local cluster, as a real process: (1) time from
// SeccompProfile create to its file on disk, one profile at a time; (2) the daemon's RSS idle, holding 1,000
// profiles, then 1,000 profiles and 1,000 pods on its node, and after a restart with both already there.
// The daemon runs as a node of its own (a Node object no kubelet serves: the pods bound to it stay put and
// nothing else is scheduled there) with its recording controller on, which is what watches pods; it writes
// into a temporary kubelet dir. Everything created is deleted at the end.
// Run: scripts/dev up && node --import tsx bench/daemon/sync.ts
//   BENCH_LATENCY=200 BENCH_PROFILES=1000 BENCH_PODS=1000 BENCH_BASE=runc-v1.1.5
//   BENCH_NODE_OPTIONS (default: the daemon container's in manifests/base/daemon-daemonset.yaml)
//   BENCH_ENTRY (compiled main.js)
//   BENCH_HEAP_SNAPSHOTS=DIR: the daemon also writes a heap snapshot into DIR at each measurement
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { paths } from '../../test/env/layout.js';
import { waitFor } from '../../test/env/wait.js';
import { benchNode, benchPod, runningStatus } from './pods.js';
import { type DaemonProcess, daemonSetNodeOptions, startDaemon } from './process.js';

const LATENCY_N = Number(process.env['BENCH_LATENCY'] ?? 200);
const RSS_N = Number(process.env['BENCH_PROFILES'] ?? 1000);
const PODS_N = Number(process.env['BENCH_PODS'] ?? 1000);
// '' benches profiles without a base (each then stands alone in the daemon's queue)
const BASE = process.env['BENCH_BASE'] ?? 'runc-v1.1.5';
// a compiled src/cli/main.js (tsc -p tsconfig.build.json --outDir ...) measures RSS without tsx's loader
const ENTRY = process.env['BENCH_ENTRY'];
// what manifests/base/daemon-daemonset.yaml sets, read from there
const NODE_OPTIONS = process.env['BENCH_NODE_OPTIONS'] ?? daemonSetNodeOptions();
const SNAPSHOTS = process.env['BENCH_HEAP_SNAPSHOTS'];
const GROUP = 'security-profiles-operator.x-k8s.io';
const CONCURRENCY = 20;

if (!existsSync(paths.kubeconfig)) {
  process.stderr.write('local cluster not up: run scripts/dev up first\n');
  process.exit(1);
}
const kc = new KubeConfig();
kc.loadFromFile(paths.kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);

const id = Date.now().toString(36);
const namespace = `bench-daemon-${id}`;
const node = `bench-daemon-node-${id}`;
const workDir = mkdtempSync(join(tmpdir(), 'bench-daemon-'));
const kubeletDir = join(workDir, 'kubelet');
mkdirSync(kubeletDir);
const memoryFile = join(workDir, 'memory.json');
const file = (name: string) => join(kubeletDir, 'seccomp/operator', namespace, `${name}.json`);

// A realistic application profile: 85 allowed syscalls on the shipped runc base.
const NAMES = readFileSync(join(import.meta.dirname, 'names.txt'), 'utf8')
  .split(/\s+/)
  .filter(Boolean);
const spec = {
  defaultAction: 'SCMP_ACT_ERRNO',
  ...(BASE !== '' ? { baseProfileName: BASE } : {}),
  syscalls: [{ action: 'SCMP_ACT_ALLOW', names: NAMES }],
};
const create = (name: string) =>
  custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1beta1',
    namespace,
    plural: 'seccompprofiles',
    body: { apiVersion: `${GROUP}/v1beta1`, kind: 'SeccompProfile', metadata: { name, namespace }, spec },
  });

async function createPod(i: number): Promise<void> {
  const profile = i % 4 === 0 ? `lat-${i % LATENCY_N}` : undefined;
  const created = await core.createNamespacedPod({ namespace, body: benchPod(i, namespace, node, profile) });
  const name = created.metadata?.name ?? '';
  await core.replaceNamespacedPodStatus({
    name,
    namespace,
    body: { ...created, status: runningStatus(created, i) },
  });
}

async function inBatches(n: number, work: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += CONCURRENCY) {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n - i) }, (_, j) => work(i + j)));
  }
}

interface Memory {
  rssMB: number;
  anonMB: number;
  fileMB: number;
  peakMB: number;
  /** process.memoryUsage() and V8's heap, from inside the daemon (memory-probe.ts) */
  inside?: unknown;
}

async function memory(pid: number): Promise<Memory> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  const mb = (k: number) => Math.round((k / 1024) * 10) / 10;
  const out: Memory = {
    rssMB: mb(kib('VmRSS')),
    anonMB: mb(kib('RssAnon')),
    fileMB: mb(kib('RssFile')),
    peakMB: mb(kib('VmHWM')),
  };
  rmSync(memoryFile, { force: true });
  process.kill(pid, 'SIGUSR2');
  try {
    await waitFor(() => existsSync(memoryFile), { what: 'memory probe', timeoutMs: 2000, intervalMs: 20 });
    out.inside = JSON.parse(readFileSync(memoryFile, 'utf8'));
  } catch {
    // no probe loaded (an entry compiled without bench/): /proc's figures only
  }
  if (SNAPSHOTS !== undefined) {
    // after the figures: a snapshot costs as much memory again as the heap it writes
    const before = new Set(readdirSync(SNAPSHOTS));
    process.kill(pid, 'SIGUSR1');
    const fresh = () => readdirSync(SNAPSHOTS).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    await waitFor(() => fresh() !== undefined, { what: 'heap snapshot', timeoutMs: 60_000, intervalMs: 200 });
    // the daemon writes it synchronously: done when it stops growing
    const path = join(SNAPSHOTS, fresh() as string);
    for (let size = -1; size !== statSync(path).size; ) {
      size = statSync(path).size;
      await sleep(1000);
    }
  }
  return out;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

const daemonArgs = [
  '--kubeconfig',
  paths.kubeconfig,
  '--node-name',
  node,
  '--kubelet-dir',
  kubeletDir,
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--insecure-metrics',
  // Turns the recording controller on (it watches this node's pods), as on a node with both recorders enabled:
  // the recorder's client is loaded at start-up, the enricher's at its first call. Nothing listens on either: no
  // bench pod is recorded, so the daemon never dials them.
  '--recorder-socket',
  join(workDir, 'recorder.sock'),
  '--enricher-socket',
  join(workDir, 'enricher.sock'),
];
const snapshotOptions =
  SNAPSHOTS !== undefined ? ` --heapsnapshot-signal=SIGUSR1 --diagnostic-dir=${SNAPSHOTS}` : '';
const start = () =>
  startDaemon(ENTRY, daemonArgs, {
    env: { NODE_OPTIONS: `${NODE_OPTIONS}${snapshotOptions}`, SPO_BENCH_MEMORY_FILE: memoryFile },
  });

await core.createNamespace({ body: { metadata: { name: namespace } } });
await core.createNode({ body: benchNode(node) });
let daemon: DaemonProcess = start();
try {
  await daemon.synced;
  await sleep(3000);
  const idle = await memory(daemon.pid);

  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_N; i++) {
    const name = `lat-${i}`;
    const t0 = performance.now();
    await create(name);
    while (!existsSync(file(name))) await sleep(1);
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);

  const startedRest = performance.now();
  const rest = Array.from({ length: RSS_N - LATENCY_N }, (_, i) => `rss-${i}`);
  await inBatches(rest.length, (i) => create(rest[i] as string));
  await waitFor(() => rest.every((n) => existsSync(file(n))), {
    what: 'all profile files',
    timeoutMs: 600_000,
    intervalMs: 500,
  });
  const bulkMs = performance.now() - startedRest;
  await sleep(5000);
  const withProfiles = await memory(daemon.pid);

  const startedPods = performance.now();
  await inBatches(PODS_N, createPod);
  const podsMs = performance.now() - startedPods;
  // watch events reach the daemon within milliseconds; the wait lets it settle as the profile phase did
  await sleep(5000);
  const withPods = await memory(daemon.pid);
  // V8's memory reducer runs a while after allocation stops: what a quiet node settles at
  await sleep(25_000);
  const withPodsLater = await memory(daemon.pid);

  // A daemon (re)started on a full node lists everything at once: its own peak, and what it keeps afterwards.
  await daemon.stop();
  daemon = start();
  const restartedAt = performance.now();
  await daemon.synced;
  const resyncMs = performance.now() - restartedAt;
  await sleep(5000);
  const restarted = await memory(daemon.pid);
  await sleep(25_000);
  const restartedLater = await memory(daemon.pid);

  const out = {
    daemon: ENTRY ?? 'sources through tsx',
    nodeOptions: NODE_OPTIONS,
    base: BASE || 'none',
    profiles: RSS_N,
    pods: PODS_N,
    createToFileMs: { n: LATENCY_N, p50: pct(latencies, 50), p99: pct(latencies, 99), max: latencies.at(-1) },
    bulk: { profiles: rest.length, ms: bulkMs, perSecond: (rest.length / bulkMs) * 1000 },
    podCreateAndStatusMs: podsMs,
    restartToSyncedMs: resyncMs,
    memory: {
      idle,
      withProfiles,
      withProfilesAndPods: withPods,
      withProfilesAndPods30s: withPodsLater,
      restarted,
      restarted30s: restartedLater,
    },
  };
  console.log(JSON.stringify(out, null, 2));
} finally {
  await daemon.stop();
  // No kubelet confirms these pods' deletion: they go at once, or the namespace would never finish.
  await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
  await core.deleteNode({ name: node }).catch(() => undefined);
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  rmSync(workDir, { recursive: true, force: true });
}
