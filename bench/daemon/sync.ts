// The node daemon against the real apiserver of the local cluster, as a real process (seccompctl daemon from the
// sources, through tsx): (1) time from SeccompProfile create to its file on disk, one profile at a time;
// (2) the daemon's RSS idle, then holding 1,000 profiles. The daemon writes into a temporary kubelet dir so the
// node's real one is untouched; node statuses name the real node. Everything created is deleted at the end.
// Run: scripts/dev up && node --import tsx bench/daemon/sync.ts   (BENCH_LATENCY=200 BENCH_PROFILES=1000)
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { nodeName, paths } from '../../test/env/layout.js';
import { waitFor } from '../../test/env/wait.js';
import { type DaemonProcess, startDaemon } from './process.js';

const LATENCY_N = Number(process.env['BENCH_LATENCY'] ?? 200);
const RSS_N = Number(process.env['BENCH_PROFILES'] ?? 1000);
// '' benches profiles without a base (each then stands alone in the daemon's queue)
const BASE = process.env['BENCH_BASE'] ?? 'runc-v1.1.5';
// a compiled src/cli/main.js (tsc -p tsconfig.build.json --outDir ...) measures RSS without tsx's loader
const ENTRY = process.env['BENCH_ENTRY'];
const GROUP = 'security-profiles-operator.x-k8s.io';

if (!existsSync(paths.kubeconfig)) {
  process.stderr.write('local cluster not up: run scripts/dev up first\n');
  process.exit(1);
}
const kc = new KubeConfig();
kc.loadFromFile(paths.kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);

const namespace = `bench-daemon-${Date.now().toString(36)}`;
const kubeletDir = mkdtempSync(join(tmpdir(), 'bench-daemon-'));
const file = (name: string) => join(kubeletDir, 'seccomp/operator', namespace, `${name}.json`);

// A realistic application profile: ~60 allowed syscalls on the shipped runc base.
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

function rssKiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
const mb = (kib: number) => (kib / 1024).toFixed(1);

await core.createNamespace({ body: { metadata: { name: namespace } } });
const daemon: DaemonProcess = startDaemon(ENTRY, [
  '--kubeconfig',
  paths.kubeconfig,
  '--node-name',
  nodeName,
  '--kubelet-dir',
  kubeletDir,
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--insecure-metrics',
]);
try {
  await daemon.synced;
  const pid = daemon.pid;
  await sleep(3000);
  const idle = rssKiB(pid);

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
  for (let i = 0; i < rest.length; i += 20) await Promise.all(rest.slice(i, i + 20).map(create));
  await waitFor(() => rest.every((n) => existsSync(file(n))), {
    what: 'all profile files',
    timeoutMs: 600_000,
    intervalMs: 500,
  });
  const bulkMs = performance.now() - startedRest;
  await sleep(5000);
  const held = rssKiB(pid);

  const out = {
    daemon: ENTRY ?? 'sources through tsx',
    base: BASE || 'none',
    profiles: RSS_N,
    createToFileMs: { n: LATENCY_N, p50: pct(latencies, 50), p99: pct(latencies, 99), max: latencies.at(-1) },
    bulk: { profiles: rest.length, ms: bulkMs, perSecond: (rest.length / bulkMs) * 1000 },
    rssMB: {
      idle: mb(idle.rss),
      with1000: mb(held.rss),
      peak: mb(held.hwm),
      perProfileKiB: ((held.rss - idle.rss) / RSS_N).toFixed(1),
    },
  };
  console.log(JSON.stringify(out, null, 2));
} finally {
  await daemon.stop();
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  rmSync(kubeletDir, { recursive: true, force: true });
}
