// Pod creation through the real apiserver of the local cluster, with our two webhooks in the path versus a
// namespace they do not select, interleaved in one run. Pods name a node that does not exist, so nothing
// schedules or runs them: the figure is admission + storage, not container start-up.
// Run: scripts/dev up && node --import tsx bench/webhook/apiserver.ts
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { paths } from '../../test/env/layout.js';
import { ensureOperator } from '../../test/env/operator.js';
import { waitFor } from '../../test/env/wait.js';
import { summarize } from './workload.js';

const N = Number(process.env.BENCH_PODS ?? 100);
const GROUP = 'security-profiles-operator.x-k8s.io';

if (!existsSync(paths.kubeconfig)) {
  process.stderr.write('local cluster not up: run scripts/dev up first\n');
  process.exit(1);
}
const kc = new KubeConfig();
kc.loadFromFile(paths.kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
await ensureOperator(kc);

const suffix = Date.now().toString(36);
const withNs = `bench-hooks-${suffix}`;
const withoutNs = `bench-plain-${suffix}`;
const bindingOnlyNs = `bench-bind-${suffix}`;
for (const name of [withNs, withoutNs, bindingOnlyNs])
  await core.createNamespace({ body: { metadata: { name } } });
try {
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1beta1',
    namespace: withNs,
    plural: 'seccompprofiles',
    body: {
      apiVersion: `${GROUP}/v1beta1`,
      kind: 'SeccompProfile',
      metadata: { name: 'p1' },
      spec: { defaultAction: 'SCMP_ACT_LOG' },
    },
  });
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1alpha1',
    namespace: withNs,
    plural: 'profilebindings',
    body: {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ProfileBinding',
      metadata: { name: 'b1' },
      spec: { profileRef: { kind: 'SeccompProfile', name: 'p1' }, image: 'nginx:1.19.1' },
    },
  });
  for (const namespace of [bindingOnlyNs]) {
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1beta1',
      namespace,
      plural: 'seccompprofiles',
      body: {
        apiVersion: `${GROUP}/v1beta1`,
        kind: 'SeccompProfile',
        metadata: { name: 'p1' },
        spec: { defaultAction: 'SCMP_ACT_LOG' },
      },
    });
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1alpha1',
      namespace,
      plural: 'profilebindings',
      body: {
        apiVersion: `${GROUP}/v1alpha1`,
        kind: 'ProfileBinding',
        metadata: { name: 'b1' },
        spec: { profileRef: { kind: 'SeccompProfile', name: 'p1' }, image: 'nginx:1.19.1' },
      },
    });
  }
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1alpha1',
    namespace: withNs,
    plural: 'profilerecordings',
    body: {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ProfileRecording',
      metadata: { name: 'r1' },
      spec: { kind: 'SeccompProfile', recorder: 'bpf', podSelector: { matchLabels: { app: 'bench' } } },
    },
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
  await waitFor(
    async () => {
      const p = await core.createNamespacedPod({ namespace: withNs, body: pod(-1), dryRun: 'All' });
      return (
        p.spec?.containers[0]?.securityContext?.seccompProfile !== undefined &&
        p.metadata?.labels?.['spo.x-k8s.io/recording-id'] === 'r1'
      );
    },
    { what: 'both webhooks active in the bench namespace', timeoutMs: 30_000 },
  );
  await waitFor(
    async () =>
      (await core.createNamespacedPod({ namespace: bindingOnlyNs, body: pod(-1), dryRun: 'All' })).spec
        ?.containers[0]?.securityContext?.seccompProfile !== undefined,
    { what: 'the binding webhook active in the binding-only namespace', timeoutMs: 30_000 },
  );
  const create = async (namespace: string, i: number) => {
    const t0 = process.hrtime.bigint();
    await core.createNamespacedPod({ namespace, body: pod(i) });
    return Number(process.hrtime.bigint() - t0);
  };
  for (let i = 0; i < 10; i++) {
    await create(withNs, 10_000 + i);
    await create(withoutNs, 10_000 + i);
  }
  const hooked: number[] = [];
  const plain: number[] = [];
  const bindingOnly: number[] = [];
  const sides: Array<[string, number[]]> = [
    [withNs, hooked],
    [withoutNs, plain],
    [bindingOnlyNs, bindingOnly],
  ];
  for (let i = 0; i < N; i++) {
    // Rotating which goes first keeps a slow moment of the machine from landing on one side only.
    for (let k = 0; k < sides.length; k++) {
      const [ns, out] = sides[(i + k) % sides.length] as [string, number[]];
      out.push(await create(ns, i));
    }
  }
  const h = summarize(hooked);
  const p = summarize(plain);
  const b = summarize(bindingOnly);
  const result = {
    pods: N,
    with_p50_ms: h.p50 / 1e6,
    without_p50_ms: p.p50 / 1e6,
    ratio_p50: h.p50 / p.p50,
    binding_only_ratio_p50: b.p50 / p.p50,
    with_p99_ms: h.p99 / 1e6,
    without_p99_ms: p.p99 / 1e6,
  };
  process.stdout.write(`pod create through the apiserver, ${N} each, interleaved
  with both webhooks   p50 ${result.with_p50_ms.toFixed(2)} ms  p99 ${result.with_p99_ms.toFixed(2)} ms
  without              p50 ${result.without_p50_ms.toFixed(2)} ms  p99 ${result.without_p99_ms.toFixed(2)} ms
  ratio p50            ${result.ratio_p50.toFixed(2)}x   (target <= 1.2x; two webhook calls: recording, then binding)
  binding only         ${result.binding_only_ratio_p50.toFixed(2)}x p50 (one webhook call)
${JSON.stringify(result)}
`);
} finally {
  for (const name of [withNs, withoutNs, bindingOnlyNs]) await core.deleteNamespace({ name }).catch(() => {});
}
