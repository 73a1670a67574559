// The local cluster is real: apiserver health, CRDs through the API, a pod
// that becomes a real container in its own mount namespace on the host, and
// a Deployment that the controller-manager and scheduler turn into a running pod.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths, repoRoot } from '../../env/layout.js';
import { runningPid } from '../../env/processes.js';
import { CoreV1Api } from '@kubernetes/client-node';
import t from 'tap';
import { apiserverTls, apiserverUrl } from '../../env/controlplane.js';
import { get } from '../../env/http.js';
import { projectCrds } from '../../env/crds.js';
import {
  createNamespace,
  createPodAndWait,
  deleteNamespace,
  deletePodAndWait,
  impersonate,
  requireCluster,
  waitFor,
} from '../../helpers/cluster.js';
import { bareContainerId, containerHostPid, criClient, mountNamespaceOf } from '../../helpers/cri.js';

const cluster = await requireCluster(t);

if (cluster) {
  const ns = await createNamespace(cluster, 'cluster');
  t.teardown(() => deleteNamespace(cluster, ns));

  t.test('kube-apiserver /readyz is ok', async (t) => {
    const res = await get(`${apiserverUrl}/readyz`, apiserverTls());
    t.equal(res.status, 200);
    t.equal(res.body.trim(), 'ok');
  });

  t.test("the project's CRDs are listed through the API", async (t) => {
    const expected = projectCrds().map((c) => c.metadata?.name as string);
    const list = await cluster.apiext.listCustomResourceDefinition();
    const names = list.items.map((c) => c.metadata?.name);
    for (const name of expected) t.ok(names.includes(name), `CRD ${name} is installed`);
    if (!expected.length) t.comment('manifests/crds holds no CRDs yet: only the list call is checked');
    t.ok(Array.isArray(list.items));
  });

  t.test(
    `a busybox pod on ${cluster.nodeName} is a real container with its own mount namespace`,
    async (t) => {
      const pod = await createPodAndWait(cluster, {
        metadata: { name: 'busybox', namespace: ns },
        spec: {
          containers: [{ name: 'main', image: cluster.images.busybox, command: ['sleep', '3600'] }],
        },
      });
      t.equal(pod.spec?.nodeName, cluster.nodeName, 'scheduled to the dev node');
      const containerID = pod.status?.containerStatuses?.[0]?.containerID ?? '';
      t.match(containerID, /^containerd:\/\/[0-9a-f]{64}$/, 'status carries the containerd id');

      const cri = criClient(cluster.criEndpoint);
      t.teardown(() => cri.close());
      const id = bareContainerId(containerID);
      const pid = await cri.containerPid(id);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      t.same(cmdline, ['sleep', '3600'], "the container's process is visible on the host");
      t.not(mountNamespaceOf(pid), mountNamespaceOf('self'), 'it has its own mount namespace');
      t.ok(
        (await cri.listContainers()).some((c) => c.id === id && c.state === 'CONTAINER_RUNNING'),
        'CRI lists it running',
      );

      await deletePodAndWait(cluster, 'busybox', ns);
      await waitFor(async () => !(await cri.listContainers()).some((c) => c.id === id), {
        what: `container ${id} to be removed from containerd`,
        timeoutMs: 30_000,
      });
      t.notOk(
        existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'),
        'the process is gone',
      );
    },
  );

  t.test('a Deployment creates a ReplicaSet whose pod is scheduled and runs', async (t) => {
    await cluster.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'demo' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'demo' } },
          template: {
            metadata: { labels: { app: 'demo' } },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [
                { name: 'demo', image: cluster.images.demo, args: ['mkdir', '/tmp/x', '--', 'pause'] },
              ],
            },
          },
        },
      },
    });
    const rs = await waitFor(
      async () =>
        (await cluster.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=demo' })).items[0],
      { what: "the Deployment's ReplicaSet", timeoutMs: 30_000 },
    );
    t.ok(
      rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === 'demo'),
      'ReplicaSet owned by the Deployment',
    );
    const pod = await waitFor(
      async () => {
        const pods = (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=demo' }))
          .items;
        return pods.find((p) => p.status?.phase === 'Running' && p.spec?.nodeName === cluster.nodeName);
      },
      { what: "the Deployment's pod to run on the dev node", timeoutMs: 60_000 },
    );
    t.ok(
      pod.metadata?.ownerReferences?.some((o) => o.kind === 'ReplicaSet'),
      'pod owned by the ReplicaSet',
    );
    await cluster.apps.deleteNamespacedDeployment({ name: 'demo', namespace: ns });
  });

  t.test('the demo image performs a syscall when triggered from the host', async (t) => {
    const pod = await createPodAndWait(cluster, {
      metadata: { name: 'demo-trigger', namespace: ns },
      spec: {
        containers: [
          {
            name: 'demo',
            image: cluster.images.demo,
            args: ['wait-file', '/tmp/go', '--', 'mkdir', '/tmp/made', '--', 'pause'],
          },
        ],
      },
    });
    const cri = criClient(cluster.criEndpoint);
    t.teardown(() => cri.close());
    const pid = await containerHostPid(cri, pod);
    const root = `/proc/${pid}/root`;
    t.notOk(existsSync(`${root}/tmp/made`), 'nothing happens before the trigger');
    writeFileSync(`${root}/tmp/go`, '');
    await waitFor(() => existsSync(`${root}/tmp/made`), {
      what: 'the demo to mkdir /tmp/made',
      timeoutMs: 10_000,
    });
    t.pass('mkdir happened inside the container after the trigger');
    await deletePodAndWait(cluster, 'demo-trigger', ns);
  });

  t.test('impersonate() acts as the service account under RBAC', async (t) => {
    const core = impersonate({ namespace: ns, name: 'default' }).makeApiClient(CoreV1Api);
    await t.rejects(
      core.listNamespacedPod({ namespace: 'kube-system' }),
      { code: 403 },
      'default SA may not list pods',
    );
  });

  t.test('up again is a no-op; down leaves no process or mount; up brings it all back', async (t) => {
    const components = [
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
      'containerd',
      'kubelet',
    ];
    const before = components.map((c) => runningPid(c));
    t.ok(
      before.every((p) => p !== undefined),
      'every component runs',
    );
    const dev = (verb: string) =>
      spawnSync('bash', [join(repoRoot, 'scripts/dev'), verb], {
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
    t.equal(dev('up').status, 0);
    t.same(
      components.map((c) => runningPid(c)),
      before,
      'a second up changes no process',
    );
    await deleteNamespace(cluster, ns);
    // `down` removes the marker that tells the run's after-script to stop a cluster the tests started.
    const startedByTests = existsSync(paths.startedByTests) ? readFileSync(paths.startedByTests) : undefined;
    t.equal(dev('down').status, 0);
    for (const [i, pid] of before.entries()) {
      t.notOk(
        existsSync(`/proc/${pid}`) && runningPid(components[i]!) !== undefined,
        `${components[i]} stopped`,
      );
    }
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((line) => line.split(' ')[4]?.startsWith(paths.dev));
    t.same(mounts, [], 'no mount left under .dev');
    // The rest of the run expects the cluster.
    t.equal(dev('up').status, 0, 'up again');
    if (startedByTests !== undefined) writeFileSync(paths.startedByTests, startedByTests);
    t.ok(components.every((c) => runningPid(c) !== undefined));
  });
}
