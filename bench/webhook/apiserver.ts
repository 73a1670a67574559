// Pod creation through the real apiserver of the local cluster, interleaved in one run, in six namespaces:
//   none         no webhook selects it                       (the baseline)
//   binding      a ProfileBinding: our binding webhook only
//   unselected   a binding and a recording whose podSelector does not select the pod: both opt-in labels, but
//                the recording webhook's matchConditions keep the call away, so binding only again
//   both         a binding and a recording that selects the pod: the binding webhook records it too (1 call)
//   floor-1      one trivial webhook (bench/webhook/trivial-webhook.ts: allowed, no patch)
//   floor-2      two trivial webhooks
//   floor-patch  one trivial webhook that patches the pod as our binding webhook does (a constant patch)
//   floor-patch-recorded  the same with the patch ours gives a pod bound and recorded (label, annotations too)
// floor-N says what N webhook calls cost on this apiserver whoever answers them, so the ratios of our cases can
// be read against it. The apiserver's own per-call time (apiserver_admission_webhook_admission_duration_seconds)
// is reported for each webhook. Pods name a node that does not exist, so nothing schedules or runs them: the
// figure is admission + storage, not container start-up.
// Run: scripts/dev up && node --import tsx bench/webhook/apiserver.ts
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1MutatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { createCa, issueServing } from '../../src/manager/x509.js';
import { RECORDING_WEBHOOK_NAME, WEBHOOK_CONFIGURATION_NAME } from '../../src/webhook/configuration.js';
import { paths } from '../../test/env/layout.js';
import { ensureOperator } from '../../test/env/operator.js';
import { waitFor } from '../../test/env/wait.js';
import { apiRequest } from '../../test/integration/webhook/kube.js';
import { summarize } from './workload.js';

const N = Number(process.env.BENCH_PODS ?? 100);
const GROUP = 'security-profiles-operator.x-k8s.io';
const FLOOR_A = 'floor-a.bench.spo.io';
const FLOOR_B = 'floor-b.bench.spo.io';
const FLOOR_PATCH = 'floor-patch.bench.spo.io';
const FLOOR_PATCH_RECORDED = 'floor-patch-recorded.bench.spo.io';

if (!existsSync(paths.kubeconfig)) {
  process.stderr.write('local cluster not up: run scripts/dev up first\n');
  process.exit(1);
}
const kc = new KubeConfig();
kc.loadFromFile(paths.kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
await ensureOperator(kc);

const suffix = Date.now().toString(36);
const ns = {
  none: `bench-none-${suffix}`,
  binding: `bench-bind-${suffix}`,
  unselected: `bench-unsel-${suffix}`,
  both: `bench-both-${suffix}`,
  floor1: `bench-floor1-${suffix}`,
  floor2: `bench-floor2-${suffix}`,
  floorPatch: `bench-floorp-${suffix}`,
  floorPatchRecorded: `bench-floorpr-${suffix}`,
};
const floorConfig = `bench-floor-${suffix}`;
const certDir = mkdtempSync(join(tmpdir(), 'bench-floor-'));
let trivial: ReturnType<typeof spawn> | undefined;

const createCustom = (namespace: string, plural: string, version: string, body: Record<string, unknown>) =>
  custom.createNamespacedCustomObject({ group: GROUP, version, namespace, plural, body });
const profileAndBinding = async (namespace: string) => {
  await createCustom(namespace, 'seccompprofiles', 'v1beta1', {
    apiVersion: `${GROUP}/v1beta1`,
    kind: 'SeccompProfile',
    metadata: { name: 'p1' },
    spec: { defaultAction: 'SCMP_ACT_LOG' },
  });
  await createCustom(namespace, 'profilebindings', 'v1alpha1', {
    apiVersion: `${GROUP}/v1alpha1`,
    kind: 'ProfileBinding',
    metadata: { name: 'b1' },
    spec: { profileRef: { kind: 'SeccompProfile', name: 'p1' }, image: 'nginx:1.19.1' },
  });
};
const recording = (namespace: string, app: string) =>
  createCustom(namespace, 'profilerecordings', 'v1alpha1', {
    apiVersion: `${GROUP}/v1alpha1`,
    kind: 'ProfileRecording',
    metadata: { name: 'r1' },
    spec: { kind: 'SeccompProfile', recorder: 'bpf', podSelector: { matchLabels: { app } } },
  });

/** Sum and count of the apiserver's per-call webhook histogram, by webhook name. */
async function webhookCallTimes(): Promise<Map<string, { sum: number; count: number }>> {
  const text = String((await apiRequest<string>(kc, 'GET', '/metrics')).body);
  const out = new Map<string, { sum: number; count: number }>();
  const re = /^apiserver_admission_webhook_admission_duration_seconds_(sum|count)\{([^}]*)\} ([0-9.e+-]+)$/gm;
  for (const m of text.matchAll(re)) {
    const name = /name="([^"]+)"/.exec(m[2] ?? '')?.[1];
    if (!name || !/type="admit"/.test(m[2] ?? '')) continue;
    const v = out.get(name) ?? { sum: 0, count: 0 };
    if (m[1] === 'sum') v.sum += Number(m[3]);
    else v.count += Number(m[3]);
    out.set(name, v);
  }
  return out;
}

try {
  for (const name of Object.values(ns)) await core.createNamespace({ body: { metadata: { name } } });
  for (const namespace of [ns.binding, ns.unselected, ns.both]) await profileAndBinding(namespace);
  await recording(ns.unselected, 'someone-else');
  await recording(ns.both, 'bench');

  // The floor: the trivial webhook in a process of its own, TLS from a CA of its own (a caBundle as ours).
  const ca = await createCa('bench-floor-ca', 1);
  const serving = await issueServing(ca, ['127.0.0.1'], 1);
  writeFileSync(join(certDir, 'tls.crt'), serving.certPem);
  writeFileSync(join(certDir, 'tls.key'), serving.keyPem);
  const child = spawn(
    process.execPath,
    ['--import=tsx', fileURLToPath(new URL('./trivial-webhook.ts', import.meta.url)), certDir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  trivial = child;
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`trivial webhook exited ${code}`)));
  });
  const floorHook = (name: string, namespaces: string[], path = '/') => ({
    name,
    admissionReviewVersions: ['v1'],
    clientConfig: {
      url: `https://127.0.0.1:${port}${path}`,
      caBundle: Buffer.from(ca.certPem).toString('base64'),
    },
    rules: [
      {
        apiGroups: [''],
        apiVersions: ['v1'],
        operations: ['CREATE'],
        resources: ['pods'],
        scope: 'Namespaced',
      },
    ],
    failurePolicy: 'Fail',
    matchPolicy: 'Equivalent',
    sideEffects: 'None',
    timeoutSeconds: 5,
    // as our binding webhook, the one that patches
    reinvocationPolicy: path.startsWith('/patch') ? 'IfNeeded' : 'Never',
    namespaceSelector: {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces }],
    },
  });
  await admission.createMutatingWebhookConfiguration({
    body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: floorConfig },
      webhooks: [
        floorHook(FLOOR_A, [ns.floor1, ns.floor2]),
        floorHook(FLOOR_B, [ns.floor2]),
        floorHook(FLOOR_PATCH, [ns.floorPatch], '/patch'),
        floorHook(FLOOR_PATCH_RECORDED, [ns.floorPatchRecorded], '/patch-recorded'),
      ],
    } as V1MutatingWebhookConfiguration,
  });

  const pod = (i: number) => ({
    metadata: { name: `p-${i}`, labels: { app: 'bench' } },
    spec: {
      nodeName: 'bench-nowhere',
      containers: [
        { name: 'nginx', image: 'nginx:1.19.1' },
        { name: 'side', image: 'busybox:1.36' },
      ],
    },
  });
  const dryRun = (namespace: string) => core.createNamespacedPod({ namespace, body: pod(-1), dryRun: 'All' });
  const bound = (p: Awaited<ReturnType<typeof dryRun>>) =>
    p.spec?.containers[0]?.securityContext?.seccompProfile !== undefined;
  const recorded = (p: Awaited<ReturnType<typeof dryRun>>) =>
    p.metadata?.labels?.['spo.x-k8s.io/recording-id'] === 'r1';
  const conditionNames = async (namespace: string) =>
    (await admission.readMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME })).webhooks
      ?.find((w) => w.name === RECORDING_WEBHOOK_NAME)
      ?.matchConditions?.some((c) => c.expression.includes(`"${namespace}"`)) === true;
  await waitFor(async () => bound(await dryRun(ns.binding)), { what: 'binding active', timeoutMs: 60_000 });
  await waitFor(async () => bound(await dryRun(ns.unselected)) && (await conditionNames(ns.unselected)), {
    what: 'binding active and the recording in the matchConditions (manager running the current sources?)',
    timeoutMs: 60_000,
  });
  await waitFor(
    async () => {
      const p = await dryRun(ns.both);
      return bound(p) && recorded(p);
    },
    { what: 'both webhooks active', timeoutMs: 60_000 },
  );
  await waitFor(
    async () => {
      await dryRun(ns.floor2);
      const times = await webhookCallTimes();
      return (times.get(FLOOR_A)?.count ?? 0) > 0 && (times.get(FLOOR_B)?.count ?? 0) > 0;
    },
    { what: 'the trivial webhooks called', timeoutMs: 60_000 },
  );
  await waitFor(async () => bound(await dryRun(ns.floorPatch)), {
    what: 'the patching trivial webhook called',
    timeoutMs: 60_000,
  });
  await waitFor(
    async () => {
      const p = await dryRun(ns.floorPatchRecorded);
      return bound(p) && recorded(p);
    },
    { what: 'the trivial webhook patching as for a recorded pod called', timeoutMs: 60_000 },
  );
  if (recorded(await dryRun(ns.unselected))) throw new Error('the unselected pod was recorded');

  const create = async (namespace: string, i: number) => {
    const t0 = process.hrtime.bigint();
    await core.createNamespacedPod({ namespace, body: pod(i) });
    return Number(process.hrtime.bigint() - t0);
  };
  const sides = Object.entries(ns) as Array<[keyof typeof ns, string]>;
  for (let i = 0; i < 10; i++) for (const [, namespace] of sides) await create(namespace, 10_000 + i);
  const samples = Object.fromEntries(sides.map(([k]) => [k, [] as number[]])) as Record<
    keyof typeof ns,
    number[]
  >;
  const before = await webhookCallTimes();
  for (let i = 0; i < N; i++) {
    // Rotating which goes first keeps a slow moment of the machine from landing on one side only.
    for (let k = 0; k < sides.length; k++) {
      const [side, namespace] = sides[(i + k) % sides.length] as [keyof typeof ns, string];
      samples[side].push(await create(namespace, i));
    }
  }
  const after = await webhookCallTimes();
  const perCall = (name: string) => {
    const a = after.get(name);
    const b = before.get(name) ?? { sum: 0, count: 0 };
    if (!a || a.count === b.count) return { calls: 0, mean_ms: Number.NaN };
    return { calls: a.count - b.count, mean_ms: ((a.sum - b.sum) / (a.count - b.count)) * 1000 };
  };
  const p50 = (k: keyof typeof ns) => summarize(samples[k]).p50 / 1e6;
  const p99 = (k: keyof typeof ns) => summarize(samples[k]).p99 / 1e6;
  const base = p50('none');
  const result = {
    pods: N,
    p50_ms: Object.fromEntries(sides.map(([k]) => [k, p50(k)])),
    p99_ms: Object.fromEntries(sides.map(([k]) => [k, p99(k)])),
    ratio_p50: Object.fromEntries(sides.map(([k]) => [k, p50(k) / base])),
    apiserver_per_call: {
      'binding.spo.io': perCall('binding.spo.io'),
      'recording.spo.io': perCall(RECORDING_WEBHOOK_NAME),
      [FLOOR_A]: perCall(FLOOR_A),
      [FLOOR_B]: perCall(FLOOR_B),
      [FLOOR_PATCH]: perCall(FLOOR_PATCH),
      [FLOOR_PATCH_RECORDED]: perCall(FLOOR_PATCH_RECORDED),
    },
  };
  const line = (k: keyof typeof ns, what: string) =>
    `  ${k.padEnd(12)} p50 ${p50(k).toFixed(2).padStart(6)} ms  p99 ${p99(k).toFixed(2).padStart(6)} ms  ${(p50(k) / base).toFixed(2)}x  ${what}`;
  const call = (name: string) => {
    const c = perCall(name);
    return `${name} ${c.mean_ms.toFixed(2)} ms (${c.calls} calls)`;
  };
  process.stdout.write(`pod create through the apiserver, ${N} each, interleaved (target: our webhooks <= 1.2x p50)
${line('none', 'no webhook')}
${line('binding', 'binding only (1 call)')}
${line('unselected', 'binding + recording ns, pod not selected by the recording (1 call)')}
${line('both', 'pod bound and recorded (1 call: binding records too)')}
${line('floor1', 'one trivial webhook (1 call)')}
${line('floor2', 'two trivial webhooks (2 calls)')}
${line('floorPatch', 'one trivial webhook with a constant patch (1 call)')}
${line('floorPatchRecorded', 'one trivial webhook with the patch of a pod bound and recorded (1 call)')}
  apiserver's time per call (mean): ${call('binding.spo.io')}; ${call(RECORDING_WEBHOOK_NAME)}; ${call(FLOOR_A)}; ${call(FLOOR_B)}; ${call(FLOOR_PATCH)}; ${call(FLOOR_PATCH_RECORDED)}
${JSON.stringify(result)}
`);
} finally {
  await admission.deleteMutatingWebhookConfiguration({ name: floorConfig }).catch(() => {});
  trivial?.kill('SIGTERM');
  rmSync(certDir, { recursive: true, force: true });
  for (const name of Object.values(ns)) await core.deleteNamespace({ name }).catch(() => {});
}
