// Single-namespace mode against the real apiserver: the RBAC of manifests/namespace-operator applied to a fresh
// namespace (checked by impersonating the operator's service accounts), then manager, webhook and daemon run
// under exactly those accounts with --watch-namespace: they work in the namespace and never look outside it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import t from 'tap';
import { NAMESPACE_OPERATOR_FILE, NS_PLACEHOLDER } from '../../../scripts/gen-namespace-operator.js';
import { paths } from '../../env/layout.js';
import {
  type Cluster,
  createNamespace,
  deleteNamespace,
  impersonate,
  requireCluster,
  waitFor,
} from '../../helpers/cluster.js';
import { type RoleProcess, startRole } from '../../helpers/role-process.js';
import { httpsRequest } from '../webhook/helpers.js';

const GROUP = 'security-profiles-operator.x-k8s.io';
// Only what the RBAC needs; the workloads need the operator image, which the local cluster does not have.
const RBAC_KINDS = new Set([
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'MutatingWebhookConfiguration',
]);
type Doc = { kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>;

const cluster = await requireCluster(t);
if (cluster !== undefined) await main(cluster);

/** A kubeconfig that authenticates as admin and acts as the service account (what its pod would be). */
function serviceAccountKubeconfig(dir: string, namespace: string, name: string): string {
  const doc = loadAllYaml(readFileSync(paths.kubeconfig, 'utf8'))[0] as {
    users: Array<{ user: Record<string, unknown> }>;
  };
  for (const u of doc.users) u.user['as'] = `system:serviceaccount:${namespace}:${name}`;
  const file = join(dir, `${name}.kubeconfig`);
  writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
  return file;
}

function forbiddenLines(role: RoleProcess) {
  return role.lines.filter((l) => l['msg'] === 'list/watch failed; retrying' || l['code'] === 403);
}

async function main(c: Cluster) {
  const ns = await createNamespace(c, 'spo-ns');
  const other = await createNamespace(c, 'spo-other');
  const objects = c.kc.makeApiClient(KubernetesObjectApi);
  const docs = loadAllYaml(
    readFileSync(NAMESPACE_OPERATOR_FILE, 'utf8').replaceAll(NS_PLACEHOLDER, ns),
  ) as Doc[];
  const applied = docs.filter((d) => RBAC_KINDS.has(d.kind));
  t.teardown(async () => {
    for (const d of applied.filter((x) => x.metadata.namespace === undefined).reverse())
      await objects.delete(d as never).catch(() => {});
    await deleteNamespace(c, ns);
    await deleteNamespace(c, other);
  });
  for (const d of applied)
    await objects.patch(d as never, undefined, undefined, 'spo-test', true, PatchStrategy.ServerSideApply);
  const webhookName = `spo-mutating-webhook-configuration-${ns}`;

  await t.test(
    'the service accounts may do their work in the namespace and nothing outside it',
    async (t) => {
      const can = async (sa: string, attrs: V1ResourceAttributes) => {
        const authz = impersonate({ namespace: ns, name: sa }).makeApiClient(AuthorizationV1Api);
        const review = await authz.createSelfSubjectAccessReview({
          body: { spec: { resourceAttributes: attrs } },
        });
        return review.status?.allowed === true;
      };
      const cases: Array<[sa: string, attrs: V1ResourceAttributes, allowed: boolean]> = [
        ['spo-manager', { verb: 'list', resource: 'pods', namespace: ns }, true],
        ['spo-manager', { verb: 'watch', resource: 'pods', namespace: ns }, true],
        ['spo-manager', { verb: 'list', resource: 'pods', namespace: other }, false],
        ['spo-manager', { verb: 'list', resource: 'pods' }, false],
        ['spo-manager', { verb: 'list', group: GROUP, resource: 'seccompprofiles', namespace: ns }, true],
        ['spo-manager', { verb: 'list', group: GROUP, resource: 'seccompprofiles' }, false],
        [
          'spo-manager',
          { verb: 'patch', group: GROUP, resource: 'seccompprofiles', subresource: 'status', namespace: ns },
          true,
        ],
        [
          'spo-manager',
          {
            verb: 'patch',
            group: GROUP,
            resource: 'seccompprofiles',
            subresource: 'status',
            namespace: other,
          },
          false,
        ],
        ['spo-manager', { verb: 'patch', group: GROUP, resource: 'profilebindings', namespace: ns }, true],
        [
          'spo-manager',
          { verb: 'list', group: GROUP, resource: 'securityprofilenodestatuses', namespace: ns },
          true,
        ],
        ['spo-manager', { verb: 'create', resource: 'secrets', namespace: ns }, true],
        ['spo-manager', { verb: 'create', resource: 'secrets', namespace: other }, false],
        [
          'spo-manager',
          {
            verb: 'update',
            group: 'coordination.k8s.io',
            resource: 'leases',
            namespace: ns,
            name: 'seccomp-profiles-operator-manager',
          },
          true,
        ],
        ['spo-manager', { verb: 'patch', resource: 'namespaces', name: other }, false],
        ['spo-manager', { verb: 'list', resource: 'namespaces' }, false],
        ['spo-manager', { verb: 'list', resource: 'nodes' }, false],
        [
          'spo-manager',
          {
            verb: 'patch',
            group: 'admissionregistration.k8s.io',
            resource: 'mutatingwebhookconfigurations',
            name: webhookName,
          },
          true,
        ],
        [
          'spo-manager',
          {
            verb: 'patch',
            group: 'admissionregistration.k8s.io',
            resource: 'mutatingwebhookconfigurations',
            name: 'spo-mutating-webhook-configuration',
          },
          false,
        ],
        ['spo-webhook', { verb: 'watch', group: GROUP, resource: 'profilebindings', namespace: ns }, true],
        ['spo-webhook', { verb: 'list', group: GROUP, resource: 'profilerecordings', namespace: ns }, true],
        ['spo-webhook', { verb: 'list', group: GROUP, resource: 'profilebindings', namespace: other }, false],
        ['spo-webhook', { verb: 'list', group: GROUP, resource: 'profilebindings' }, false],
        ['spo-webhook', { verb: 'create', group: GROUP, resource: 'seccompprofiles', namespace: ns }, false],
        ['spo-daemon', { verb: 'watch', group: GROUP, resource: 'seccompprofiles', namespace: ns }, true],
        ['spo-daemon', { verb: 'list', group: GROUP, resource: 'seccompprofiles' }, false],
        [
          'spo-daemon',
          { verb: 'create', group: GROUP, resource: 'securityprofilenodestatuses', namespace: ns },
          true,
        ],
        [
          'spo-daemon',
          { verb: 'create', group: GROUP, resource: 'securityprofilenodestatuses', namespace: other },
          false,
        ],
        ['spo-daemon', { verb: 'patch', resource: 'pods', namespace: ns }, true],
        ['spo-daemon', { verb: 'list', resource: 'pods', namespace: other }, false],
        ['spo-daemon', { verb: 'create', resource: 'events', namespace: ns }, true],
        ['spo-daemon', { verb: 'create', resource: 'events', namespace: other }, false],
        ['spo-daemon', { verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' }, true],
        [
          'spo-daemon',
          { verb: 'create', group: 'authorization.k8s.io', resource: 'subjectaccessreviews' },
          true,
        ],
      ];
      for (const [sa, attrs, allowed] of cases) {
        const where =
          attrs.namespace === undefined ? 'cluster-wide' : attrs.namespace === ns ? 'in NS' : 'elsewhere';
        t.equal(
          await can(sa, attrs),
          allowed,
          `${sa} ${allowed ? 'may' : 'may not'} ${attrs.verb} ${attrs.resource}${attrs.subresource ? `/${attrs.subresource}` : ''} ${where}`,
        );
      }
    },
  );

  await t.test(
    'the webhook configuration sends pods of the namespace only, never the operator pods',
    async (t) => {
      // Dry runs go through admission; with no webhook Service behind it, a selected pod is refused (Fail).
      const pod = (namespace: string, labels: Record<string, string> = {}) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { generateName: 'dry-', namespace, labels },
        spec: { containers: [{ name: 'c', image: c.images.busybox }] },
      });
      const create = (p: ReturnType<typeof pod>) =>
        c.core.createNamespacedPod({ namespace: p.metadata.namespace, body: p, dryRun: 'All' }).then(
          () => 'admitted',
          (err: { body?: string }) => String(err.body ?? err),
        );
      t.match(
        await create(pod(ns)),
        /binding\.spo\.io/,
        'a pod in the namespace reaches the (absent) webhook',
      );
      t.equal(
        await create(pod(ns, { 'app.kubernetes.io/name': 'spod' })),
        'admitted',
        'operator pods are skipped',
      );
      t.equal(await create(pod(other)), 'admitted', 'other namespaces are not selected');
    },
  );

  const dir = t.testdir({ kubelet: {}, certs: {} });
  const kubeconfig = (sa: string) => serviceAccountKubeconfig(dir, ns, sa);
  const certDir = join(dir, 'certs');
  const kubeletDir = join(dir, 'kubelet');

  await t.test(
    'without --watch-namespace the same accounts are refused: the RBAC really is narrow',
    async (t) => {
      const daemon = startRole([
        'daemon',
        '--kubeconfig',
        kubeconfig('spo-daemon'),
        '--node-name',
        c.nodeName,
        '--kubelet-dir',
        kubeletDir,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--insecure-metrics',
      ]);
      t.teardown(() => daemon.stop());
      const refused = await daemon.waitForLog((l) => l['msg'] === 'list/watch failed; retrying');
      t.match(refused, { informer: 'seccompprofiles', code: 403 });
      t.notOk(
        daemon.lines.some((l) => l['msg'] === 'daemon synced'),
        'and so never gets ready',
      );
    },
  );

  const custom = c.kc.makeApiClient(CustomObjectsApi);
  const createProfile = (namespace: string, name: string) =>
    custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1beta1',
      plural: 'seccompprofiles',
      namespace,
      body: {
        apiVersion: `${GROUP}/v1beta1`,
        kind: 'SeccompProfile',
        metadata: { name, namespace },
        spec: { defaultAction: 'SCMP_ACT_LOG' },
      },
    });
  await t.test('manager, daemon and webhook work in the namespace only', async (t) => {
    // Created before the roles start, the other namespace's first: a role that looked everywhere would meet it first.
    await createProfile(other, 'outside');
    await createProfile(ns, 'inside');
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1alpha1',
      plural: 'profilebindings',
      namespace: ns,
      body: {
        apiVersion: `${GROUP}/v1alpha1`,
        kind: 'ProfileBinding',
        metadata: { name: 'busybox', namespace: ns },
        spec: { profileRef: { kind: 'SeccompProfile', name: 'inside' }, image: c.images.busybox },
      },
    });

    const manager = startRole(
      [
        'manager',
        '--kubeconfig',
        kubeconfig('spo-manager'),
        '--operator-namespace',
        ns,
        '--watch-namespace',
        ns,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--cert-dir',
        certDir,
        '--cert-host',
        '127.0.0.1',
        '--verbosity',
        '1',
      ],
      // The local cluster runs the node roles as processes: the manager must not create DaemonSet spod.
      { KUBELET_DIR: kubeletDir, SPOD_MANAGE_DAEMONSET: 'false' },
    );
    t.teardown(() => manager.stop());
    const daemon = startRole([
      'daemon',
      '--kubeconfig',
      kubeconfig('spo-daemon'),
      '--node-name',
      c.nodeName,
      '--kubelet-dir',
      kubeletDir,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--insecure-metrics',
      '--watch-namespace',
      ns,
      '--verbosity',
      '1',
      // Its recording controller watches pods (of this node, in NS); no recorder needs to answer for that.
      '--recorder-socket',
      join(dir, 'no-recorder.sock'),
    ]);
    t.teardown(() => daemon.stop());

    await daemon.waitForLog((l) => l['msg'] === 'daemon synced');
    t.ok(
      daemon.lines.some((l) => l['msg'] === 'recording controller started'),
      'the recording controller synced its pods in NS',
    );
    const operatorDir = join(kubeletDir, 'seccomp/operator');
    await waitFor(() => existsSync(join(operatorDir, ns, 'inside.json')), {
      what: 'the profile in NS on disk',
    });
    t.equal(
      readFileSync(join(operatorDir, ns, 'inside.json'), 'utf8'),
      '{\n  "defaultAction": "SCMP_ACT_LOG"\n}\n',
    );
    t.notOk(existsSync(join(operatorDir, other)), 'nothing of the other namespace is written');
    t.notOk(
      daemon.lines.some((l) => l['namespace'] === other),
      'the daemon never even saw the other namespace',
    );
    const statuses = (ns2: string) =>
      custom
        .listNamespacedCustomObject({
          group: GROUP,
          version: 'v1alpha1',
          plural: 'securityprofilenodestatuses',
          namespace: ns2,
        })
        .then((l) => (l as { items: Array<{ profileName: string; nodeName: string }> }).items);
    await waitFor(async () => (await statuses(ns)).some((s) => s.profileName === 'inside'), {
      what: 'node status in NS',
    });
    t.same(await statuses(other), [], 'no node status outside NS');

    const synced = await manager.waitForLog((l) => l['msg'] === 'controller caches synced', 90_000);
    t.ok(synced, 'the manager synced with namespace-scoped RBAC');
    const watched = [
      'pods',
      'profilebindings',
      'profilerecordings',
      'seccompprofiles',
      'securityprofilenodestatuses',
    ];
    const informers = await waitFor(
      () => {
        const seen = new Set(
          manager.lines
            .filter((l) => l['msg'] === 'synced' && typeof l['informer'] === 'string')
            .map((l) => String(l['informer'])),
        );
        return watched.every((i) => seen.has(i)) ? seen : false;
      },
      { what: `the manager's informers (${watched.join(', ')}) to sync in NS` },
    );
    t.pass(`manager watches ${watched.join(', ')} in NS`);
    t.notOk(informers.has('namespaces'), 'no namespace watch');
    t.notOk(informers.has('nodes'), 'no node watch');
    const config = await waitFor(
      async () => {
        const w = await c.kc
          .makeApiClient(AdmissionregistrationV1Api)
          .readMutatingWebhookConfiguration({ name: webhookName });
        return w.webhooks?.every((h) => h.clientConfig.caBundle) ? w : false;
      },
      { what: `caBundle in ${webhookName}` },
    );
    t.ok(config, 'the manager patched its own webhook configuration');
    const lease = await c.kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'seccomp-profiles-operator-manager', namespace: ns });
    t.ok(lease.spec?.holderIdentity, 'the lease lives in NS');
    const nsLabels = (await c.core.readNamespace({ name: other })).metadata?.labels ?? {};
    t.notOk(
      manager.lines.some((l) => l['msg'] === 'namespace opt-in labels updated'),
      'the manager labels no namespace',
    );
    t.notOk(nsLabels['spo.x-k8s.io/enable-binding'], 'the other namespace is untouched');

    await waitFor(() => existsSync(join(certDir, 'tls.crt')) && existsSync(join(certDir, 'ca.crt')), {
      what: 'serving certificate from the manager',
    });
    const webhook = startRole([
      'webhook',
      '--kubeconfig',
      kubeconfig('spo-webhook'),
      '--operator-namespace',
      ns,
      '--watch-namespace',
      ns,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--cert-dir',
      certDir,
    ]);
    t.teardown(() => webhook.stop());
    const listening = await webhook.waitForLog((l) => l['msg'] === 'webhook listening');
    const url = `https://127.0.0.1:${String(listening['port'])}`;
    const ca = readFileSync(join(certDir, 'ca.crt'), 'utf8');
    await waitFor(async () => (await httpsRequest(`${url}/readyz`, { ca })).status === 200, {
      what: 'webhook caches synced with namespace-scoped RBAC',
    });
    const review = (namespace: string) =>
      Buffer.from(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: {
            uid: `u-${namespace}`,
            kind: { group: '', version: 'v1', kind: 'Pod' },
            operation: 'CREATE',
            namespace,
            object: {
              metadata: { name: 'p' },
              spec: { containers: [{ name: 'c', image: c.images.busybox }] },
            },
          },
        }),
      );
    const answer = async (namespace: string) =>
      JSON.parse(
        (await httpsRequest(`${url}/mutate-v1-pod-binding`, { ca, method: 'POST', body: review(namespace) }))
          .body,
      ) as { response: { allowed: boolean; patch?: string; warnings?: string[] } };
    const inside = await answer(ns);
    t.ok(inside.response.patch, 'a pod in NS is bound');
    t.match(Buffer.from(inside.response.patch ?? '', 'base64').toString(), `operator/${ns}/inside.json`);
    const outside = await answer(other);
    t.equal(outside.response.allowed, true);
    t.equal(outside.response.patch, undefined, 'a pod elsewhere is admitted unchanged');
    t.match(outside.response.warnings, [new RegExp(`single-namespace mode for namespace "${ns}"`)]);
    // The log line is written after the response goes out, so it may arrive a moment later.
    t.match(await webhook.waitForLog((l) => l['msg'] === 'review outside the watched namespace', 10_000), {
      namespace: other,
      watchNamespace: ns,
      level: 40,
    });

    for (const [name, role] of [
      ['manager', manager],
      ['daemon', daemon],
      ['webhook', webhook],
    ] as const) {
      t.same(forbiddenLines(role), [], `${name}: no request outside its RBAC`);
    }
    t.equal(await webhook.stop(), 0);
    t.equal(await daemon.stop(), 0);
    t.equal(await manager.stop(), 0);
  });
}
