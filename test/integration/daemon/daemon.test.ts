import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import t from 'tap';
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
  const namespace = await createNamespace(cluster, 'daemon');
  t.teardown(() => deleteNamespace(cluster, namespace));
  const { daemon, address: base } = await startNodeDaemon(cluster);
  t.teardown(() => daemon.stop());

  const file = (name: string) => join(cluster.kubeletDir, 'seccomp/operator', namespace, `${name}.json`);
  const profiles = { group: GROUP, version: 'v1beta1', namespace, plural: 'seccompprofiles' };
  const nodeStatus = (name: string) =>
    custom
      .getNamespacedCustomObject({
        group: GROUP,
        version: 'v1alpha1',
        namespace,
        plural: 'securityprofilenodestatuses',
        name: `${name}-${cluster.nodeName}`,
      })
      .then(
        (o) => o as { status: string; message?: string },
        () => undefined,
      );
  const apply = (name: string, spec: object) =>
    custom.createNamespacedCustomObject({
      ...profiles,
      body: { apiVersion: `${GROUP}/v1beta1`, kind: 'SeccompProfile', metadata: { name, namespace }, spec },
    });

  await t.test('the seed profile is written where the seed says, and a pod runs under it', async (t) => {
    await apply('profile1', { defaultAction: 'SCMP_ACT_LOG' });
    await waitFor(() => existsSync(file('profile1')), { what: 'profile file' });
    t.same(JSON.parse(readFileSync(file('profile1'), 'utf8')), { defaultAction: 'SCMP_ACT_LOG' });
    const status = await waitFor(
      async () => (await nodeStatus('profile1'))?.status === 'Installed' && nodeStatus('profile1'),
      {
        what: 'node status Installed',
      },
    );
    t.match(status, { status: 'Installed' });
    const events = await waitFor(
      async () => {
        const list = await cluster.core.listNamespacedEvent({
          namespace,
          fieldSelector: 'involvedObject.name=profile1',
        });
        return list.items.find((e) => e.reason === 'SavedSeccompProfile');
      },
      { what: 'SavedSeccompProfile event' },
    );
    t.match(events.message, /Successfully saved profile to disk on/);
    const pod = await createPodAndWait(cluster, {
      metadata: { name: 'under-profile', namespace },
      spec: {
        securityContext: {
          seccompProfile: { type: 'Localhost', localhostProfile: `operator/${namespace}/profile1.json` },
        },
        containers: [{ name: 'c', image: cluster.images.busybox, command: ['sleep', '3600'] }],
      },
    });
    t.equal(pod.status?.phase, 'Running');
    await deletePodAndWait(cluster, 'under-profile', namespace);
  });

  await t.test(
    'an update replaces the file; a bad base keeps the previous file and reports why',
    async (t) => {
      await apply('app', { defaultAction: 'SCMP_ACT_LOG' });
      await waitFor(() => existsSync(file('app')), { what: 'app file' });
      await custom.patchNamespacedCustomObject({
        ...profiles,
        name: 'app',
        body: [
          {
            op: 'replace',
            path: '/spec',
            value: {
              defaultAction: 'SCMP_ACT_ERRNO',
              syscalls: [{ action: 'SCMP_ACT_ALLOW', names: ['read'] }],
            },
          },
        ],
      });
      await waitFor(() => readFileSync(file('app'), 'utf8').includes('SCMP_ACT_ERRNO'), {
        what: 'updated file',
      });
      const before = readFileSync(file('app'), 'utf8');
      await custom.patchNamespacedCustomObject({
        ...profiles,
        name: 'app',
        body: [{ op: 'add', path: '/spec/baseProfileName', value: 'no-such-base' }],
      });
      const status = await waitFor(
        async () => ((await nodeStatus('app'))?.status === 'Error' ? nodeStatus('app') : false),
        {
          what: 'node status Error',
        },
      );
      t.match(status?.message, /InvalidSeccompProfile: base profile "no-such-base" not found/);
      t.equal(readFileSync(file('app'), 'utf8'), before, 'previous file intact');
      await custom.deleteNamespacedCustomObject({ ...profiles, name: 'app' });
      await waitFor(() => !existsSync(file('app')), { what: 'file removed' });
      t.pass('file removed with the profile');
    },
  );

  await t.test('metrics need a token allowed to read them', async (t) => {
    const anonymous = await fetch(`${base}/metrics`);
    t.equal(anonymous.status, 401);
    const rbac = cluster.kc.makeApiClient(RbacAuthorizationV1Api);
    for (const sa of ['reader', 'stranger']) {
      await cluster.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
    }
    const role = `spo-metrics-client-${namespace}`;
    await rbac.createClusterRole({
      body: { metadata: { name: role }, rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }] },
    });
    t.teardown(() =>
      rbac.deleteClusterRole({ name: role }).then(() => rbac.deleteClusterRoleBinding({ name: role })),
    );
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: role },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    });
    const token = async (name: string) =>
      (
        await cluster.core.createNamespacedServiceAccountToken({
          name,
          namespace,
          body: { spec: { audiences: [] } },
        })
      ).status?.token;
    const denied = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${await token('stranger')}` },
    });
    t.equal(denied.status, 403);
    const allowed = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${await token('reader')}` },
    });
    t.equal(allowed.status, 200);
    const text = await allowed.text();
    t.match(text, /security_profiles_operator_seccomp_profile_total\{operation="update"\} [1-9]/);
    t.match(text, /security_profiles_operator_seccomp_profile_total\{operation="delete"\} [1-9]/);
    t.match(
      text,
      /security_profiles_operator_seccomp_profile_error_total\{reason="InvalidSeccompProfile"\} [1-9]/,
    );
    t.match(text, /process_resident_memory_bytes/);
  });

  await t.test('SIGTERM shuts the daemon down cleanly', async (t) => {
    t.equal(await daemon.stop(), 0);
    t.ok(daemon.lines.some((l) => l['msg'] === 'shutting down'));
  });
}
