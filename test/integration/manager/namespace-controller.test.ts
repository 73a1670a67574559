// The running manager against the real apiserver: a burst of pods in a namespace with a ProfileBinding costs the
// binding a few writes (each carries the whole activeWorkloads list), not one per pod event, and the list still
// ends up naming every pod.
import { CustomObjectsApi, Watch } from '@kubernetes/client-node';
import t from 'tap';
import { ensureOperator } from '../../env/operator.js';
import { createNamespace, deleteNamespace, requireCluster, waitFor } from '../../helpers/cluster.js';

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

    let writes = 0;
    const watch = await new Watch(cluster.kc).watch(
      `/apis/${GROUP}/v1alpha1/namespaces/${namespace}/profilebindings`,
      { fieldSelector: 'metadata.name=b1' },
      (type) => {
        if (type === 'MODIFIED') writes++;
      },
      () => undefined,
    );
    t.teardown(() => watch.abort());

    // Pods that already run under the binding's profile, on a node that does not exist: never scheduled, so
    // each makes its creation event and no more.
    for (let i = 0; i < PODS; i++) {
      await cluster.core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: `user-${i}` },
          spec: {
            nodeName: 'nsctl-nowhere',
            containers: [
              {
                name: 'web',
                image: 'nginx:1.19.1',
                securityContext: {
                  seccompProfile: { type: 'Localhost', localhostProfile: `operator/${namespace}/p1.json` },
                },
              },
            ],
          },
        },
      });
    }
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
    t.ok(writes >= 1, `the binding was written (${writes})`);
    t.ok(
      writes <= 4,
      `${PODS} pods cost the binding ${writes} writes (status and finalizer), not one per pod`,
    );
  });
}
