// mergeStrategy containers: per-pod profiles are Partial (never on disk); deleting the recording merges them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { createPodAndWait, waitFor } from '../../helpers/cluster.js';
import { RecordingMergeController } from '../../../src/manager/recording-merge-controller.js';
import { createKubeClient } from '../../../src/k8s/rest/index.js';
import { paths } from '../../env/layout.js';
import {
  allowed,
  createRecording,
  demoContainer,
  GROUP,
  listProfiles,
  recordedMeta,
  setUp,
  skipUnlessReady,
  waitProfile,
  waitTracked,
} from './helpers.js';

t.test('merge strategy: one merged profile holding the union, partial ones gone', async (t) => {
  if (skipUnlessReady(t)) return;
  const env = await setUp(t);
  if (env === undefined) return;
  const kube = await createKubeClient(paths.kubeconfig);
  const merger = new RecordingMergeController(env.cluster.kc, kube, pino({ level: 'warn' }));
  await merger.start();
  t.teardown(() => merger.stop());

  await createRecording(env, 'merge', { mergeStrategy: 'containers' });
  const workloads: [string, string[]][] = [
    ['a', ['mkdir', '/tmp/a', '--', 'pause']],
    ['b', ['uname', '--', 'pause']],
  ];
  for (const [name, args] of workloads) {
    await createPodAndWait(env.cluster, {
      metadata: { name, namespace: env.ns, ...recordedMeta('merge', ['demo']) },
      spec: { restartPolicy: 'Never', containers: [demoContainer('demo', args)] },
    });
    await waitTracked(env, name);
    await env.cluster.core.deleteNamespacedPod({ name, namespace: env.ns });
  }
  const p0 = await waitProfile(env, 'merge-demo-0');
  const p1 = await waitProfile(env, 'merge-demo-1');
  for (const p of [p0, p1])
    t.equal(p.metadata.labels?.['spo.x-k8s.io/partial'], 'true', `${p.metadata.name} partial`);
  const dir = join(env.cluster.kubeletDir, 'seccomp', 'operator', env.ns);
  t.notOk(existsSync(join(dir, 'merge-demo-0.json')), 'partial profile not written to disk');
  const rec = (await env.custom.getNamespacedCustomObject({
    group: GROUP,
    version: 'v1alpha1',
    plural: 'profilerecordings',
    namespace: env.ns,
    name: 'merge',
  })) as { metadata: { finalizers?: string[] } };
  t.ok(
    rec.metadata.finalizers?.includes('spo.x-k8s.io/has-unmerged-profiles'),
    'recording held by a finalizer',
  );

  await env.custom.deleteNamespacedCustomObject({
    group: GROUP,
    version: 'v1alpha1',
    plural: 'profilerecordings',
    namespace: env.ns,
    name: 'merge',
  });
  const merged = await waitProfile(env, 'merge-demo');
  const names = allowed(merged);
  t.ok(names.includes('mkdir') && names.includes('uname'), 'union of both pods');
  t.notOk(merged.metadata.labels?.['spo.x-k8s.io/partial'], 'merged profile is not partial');
  await waitFor(
    async () => !(await listProfiles(env)).some((p) => p.metadata.name.startsWith('merge-demo-')),
    { what: 'partial profiles deleted' },
  );
  await waitFor(
    () =>
      env.custom
        .getNamespacedCustomObject({
          group: GROUP,
          version: 'v1alpha1',
          plural: 'profilerecordings',
          namespace: env.ns,
          name: 'merge',
        })
        .then(
          () => false,
          () => true,
        ),
    { what: 'recording deleted once merged' },
  );
});
