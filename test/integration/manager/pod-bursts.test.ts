// The running manager against the real apiserver: a burst of pods costs the object that lists them (a
// ProfileBinding, a SeccompProfile) a few writes (each carries the whole activeWorkloads list), not one per pod
// event, and the list still ends up naming every pod.
import { CustomObjectsApi } from '@kubernetes/client-node';
import t from 'tap';
import { IN_USE_FINALIZER } from '../../../src/manager/profile-controller.js';
import { ensureOperator } from '../../env/operator.js';
import { createNamespace, deleteNamespace, requireCluster, waitFor } from '../../helpers/cluster.js';
import { countWrites, createUnscheduledPod } from '../../helpers/pod-burst.js';

const GROUP = 'security-profiles-operator.x-k8s.io';
const PODS = 10;

const cluster = await requireCluster(t);
if (cluster !== undefined) {
  await ensureOperator(cluster.kc);
  const custom = cluster.kc.makeApiClient(CustomObjectsApi);

  t.test('a burst of pods: a few binding writes, and activeWorkloads lists every pod', async (t) => {
    const namespace = await createNamespace(cluster, 'nsctl');
    t.teardown(() => deleteNamespace(cluster, namespace));
    const bindings = { group: GROUP, version: 'v1alpha1', namespace, plural: 'profilebindings' };
    await custom.createNamespacedCustomObject({
      ...bindings,
      body: {
        apiVersion: `${GROUP}/v1alpha1`,
        kind: 'ProfileBinding',
        metadata: { name: 'b1' },
        spec: { profileRef: { kind: 'SeccompProfile', name: 'p1' }, image: 'nginx:1.19.1' },
      },
    });
    // the manager's first look at the new binding (opt-in label) is done before counting starts
    await waitFor(
      async () =>
        (await cluster.core.readNamespace({ name: namespace })).metadata?.labels?.[
          'spo.x-k8s.io/enable-binding'
        ] !== undefined,
      { what: 'the namespace opted in for binding' },
    );

    const writes = await countWrites(
      t,
      cluster,
      `/apis/${GROUP}/v1alpha1/namespaces/${namespace}/profilebindings`,
      'b1',
    );
    // pods that already run under the binding's profile
    for (let i = 0; i < PODS; i++) await createUnscheduledPod(cluster, namespace, `user-${i}`, 'p1');
    const expected = JSON.stringify(Array.from({ length: PODS }, (_, i) => `${namespace}/user-${i}`).sort());
    await waitFor(
      async () => {
        const b = (await custom.getNamespacedCustomObject({ ...bindings, name: 'b1' })) as {
          metadata: { finalizers?: string[] };
          status?: { activeWorkloads?: string[] };
        };
        return (
          JSON.stringify([...(b.status?.activeWorkloads ?? [])].sort()) === expected &&
          b.metadata.finalizers?.includes('active-workload-lock') === true
        );
      },
      { what: 'activeWorkloads listing every pod, finalizer set', timeoutMs: 30_000 },
    );
    // a pass still under way would write after the list is complete; give it time to show
    await new Promise((r) => setTimeout(r, 2_500));
    t.ok(writes() >= 1, `the binding was written (${writes()})`);
    t.ok(
      writes() <= 4,
      `${PODS} pods cost the binding ${writes()} writes (status and finalizer), not one per pod`,
    );
  });

  t.test('a burst of pods: a few profile writes, and activeWorkloads lists every pod', async (t) => {
    const namespace = await createNamespace(cluster, 'pwrites');
    t.teardown(() => deleteNamespace(cluster, namespace));
    const profiles = { group: GROUP, version: 'v1beta1', namespace, plural: 'seccompprofiles' };
    await custom.createNamespacedCustomObject({
      ...profiles,
      body: {
        apiVersion: `${GROUP}/v1beta1`,
        kind: 'SeccompProfile',
        metadata: { name: 'p1' },
        spec: { defaultAction: 'SCMP_ACT_ALLOW' },
      },
    });
    type Read = { metadata: { finalizers?: string[] }; status?: { activeWorkloads?: string[] } };
    const read = async () => (await custom.getNamespacedCustomObject({ ...profiles, name: 'p1' })) as Read;
    const users = (n: number) =>
      JSON.stringify(Array.from({ length: n }, (_, i) => `${namespace}/user-${i}`));
    const listed = (p: Read) => JSON.stringify([...(p.status?.activeWorkloads ?? [])].sort());

    // the first user puts the finalizer on; the burst after it is what is counted
    await createUnscheduledPod(cluster, namespace, 'user-0', 'p1');
    await waitFor(
      async () => {
        const p = await read();
        return p.metadata.finalizers?.includes(IN_USE_FINALIZER) === true && listed(p) === users(1);
      },
      { what: 'the in-use finalizer and the first pod listed', timeoutMs: 30_000 },
    );

    const writes = await countWrites(
      t,
      cluster,
      `/apis/${GROUP}/v1beta1/namespaces/${namespace}/seccompprofiles`,
      'p1',
    );
    for (let i = 1; i < PODS; i++) await createUnscheduledPod(cluster, namespace, `user-${i}`, 'p1');
    // sorted as strings, like the list: user-0 .. user-9 sort the same either way
    await waitFor(async () => listed(await read()) === users(PODS), {
      what: 'activeWorkloads listing every pod',
      timeoutMs: 30_000,
    });
    // a pass still under way would write after the list is complete; give it time to show
    await new Promise((r) => setTimeout(r, 2_500));
    t.ok(writes() >= 1, `the profile was written (${writes()})`);
    t.ok(writes() <= 3, `${PODS - 1} more pods cost the profile ${writes()} writes, not one per pod`);
  });
}
