import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import t from 'tap';
import { createKubeClient, makeRestInformer, PODS } from '../../../src/k8s/rest/index.js';
import { paths } from '../../env/layout.js';
import { IN_USE_FINALIZER, ProfileController } from '../../../src/manager/profile-controller.js';
import type { SeccompProfile } from '../../../src/profiles/types.js';
import {
  createNamespace,
  createPodAndWait,
  deleteNamespace,
  deletePodAndWait,
  requireCluster,
  waitFor,
} from '../../helpers/cluster.js';
import { startNodeDaemon } from '../../helpers/role-process.js';

const GROUP = 'security-profiles-operator.x-k8s.io';

const cluster = await requireCluster(t);
if (cluster !== undefined) {
  const custom = cluster.kc.makeApiClient(CustomObjectsApi);
  const namespace = await createNamespace(cluster, 'pstatus');
  t.teardown(() => deleteNamespace(cluster, namespace));
  const { daemon } = await startNodeDaemon(cluster, ['--insecure-metrics']);
  t.teardown(() => daemon.stop());

  const log = pino({ level: 'silent' });
  const kube = await createKubeClient(paths.kubeconfig);
  const pods = makeRestInformer<V1Pod>(kube, PODS, { log, what: 'pods' });
  const controller = new ProfileController({
    kc: cluster.kc,
    kube,
    log,
    pods,
    kubeletDir: cluster.kubeletDir,
  });
  await pods.start();
  await controller.start();
  t.teardown(async () => {
    await controller.stop();
    await pods.stop();
  });

  const profiles = { group: GROUP, version: 'v1beta1', namespace, plural: 'seccompprofiles' };
  const read = (name: string) =>
    custom.getNamespacedCustomObject({ ...profiles, name }).then(
      (p) => p as SeccompProfile & { metadata: { finalizers?: string[] } },
      () => undefined,
    );
  const file = join(cluster.kubeletDir, 'seccomp/operator', namespace, 'profile1.json');

  await t.test('status rolls up to Installed with the seed columns', async (t) => {
    await custom.createNamespacedCustomObject({
      ...profiles,
      body: {
        apiVersion: `${GROUP}/v1beta1`,
        kind: 'SeccompProfile',
        metadata: { name: 'profile1', namespace },
        spec: { defaultAction: 'SCMP_ACT_LOG' },
      },
    });
    const p = await waitFor(
      async () => ((await read('profile1'))?.status?.status === 'Installed' ? read('profile1') : false),
      {
        what: 'profile Installed',
      },
    );
    t.equal(p?.status?.localhostProfile, `operator/${namespace}/profile1.json`);
    t.equal(p?.status?.path, file);
    t.match(p?.status?.conditions, [{ type: 'Ready', status: 'True', reason: 'Available' }]);
  });

  await t.test('in use: finalizer and activeWorkloads; deletion waits for the pod', async (t) => {
    await createPodAndWait(cluster, {
      metadata: { name: 'user', namespace },
      spec: {
        containers: [
          {
            name: 'c',
            image: cluster.images.busybox,
            command: ['sleep', '3600'],
            securityContext: {
              seccompProfile: { type: 'Localhost', localhostProfile: `operator/${namespace}/profile1.json` },
            },
          },
        ],
      },
    });
    const used = await waitFor(
      async () => {
        const p = await read('profile1');
        return p?.metadata.finalizers?.includes(IN_USE_FINALIZER) && p.status?.activeWorkloads?.length === 1
          ? p
          : false;
      },
      { what: 'in-use finalizer and activeWorkloads' },
    );
    t.same(used.status?.activeWorkloads, [`${namespace}/user`]);
    await custom.deleteNamespacedCustomObject({ ...profiles, name: 'profile1' });
    const terminating = await waitFor(
      async () => ((await read('profile1'))?.status?.status === 'Terminating' ? read('profile1') : false),
      {
        what: 'profile Terminating',
      },
    );
    t.match(terminating?.status?.conditions, [{ reason: 'Deleting' }]);
    t.ok(existsSync(file), 'file kept while the pod runs');
    await deletePodAndWait(cluster, 'user', namespace);
    await waitFor(async () => (await read('profile1')) === undefined, { what: 'profile gone' });
    await waitFor(() => !existsSync(file), { what: 'file removed from the node' });
    t.pass('profile and file removed after the last pod went');
  });
}
