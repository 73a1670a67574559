// The manager's spod controller against the local cluster: a real manager process, under a ServiceAccount
// with exactly the RBAC of manifests/base/rbac-manager.yaml, in a namespace of its own (single-namespace
// mode, so it leaves the rest of the shared cluster alone). The local kubelet cannot run the DaemonSet's
// pods (the image is not pullable and the test namespace has no spo-daemon account), so the spod never
// reaches Running here: the rollout states are covered by test/unit/manager/spod-state.test.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  CustomObjectsApi,
  loadAllYaml,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1DaemonSet,
  type V1MutatingWebhookConfiguration,
} from '@kubernetes/client-node';
import t from 'tap';
import { describeError, statusOf } from '../../../src/k8s/client.js';
import { SPODS } from '../../../src/k8s/resources.js';
import { SYSTEM_NAMESPACES } from '../../../src/manager/opt-in.js';
import { CONFIG_HASH_ANNOTATION, configHash, spodConfig } from '../../../src/manager/spod-render.js';
import { webhookConfiguration } from '../../../src/webhook/configuration.js';
import { installCrds } from '../../env/crds.js';
import { paths, repoRoot } from '../../env/layout.js';
import { createNamespace, deleteNamespace, requireCluster, waitFor } from '../../helpers/cluster.js';
import { type RoleProcess, startRole } from '../../helpers/role-process.js';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const IMAGE = 'localhost/spod-test:never-pulled';
const NOT_RUNNING = ['Pending', 'Creating', 'Updating'];

interface Spod {
  metadata: { name: string; uid: string; generation: number };
  spec: Record<string, unknown>;
  status?: {
    state?: string;
    observedGeneration?: number;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
}

const cluster = await requireCluster(t);
if (cluster !== undefined) {
  // A cluster brought up before this CRD existed gets it now (idempotent, as `scripts/dev up` applies it).
  await installCrds();
  const custom = cluster.kc.makeApiClient(CustomObjectsApi);
  const rbac = cluster.kc.makeApiClient(RbacAuthorizationV1Api);
  const admission = cluster.kc.makeApiClient(AdmissionregistrationV1Api);
  const ns = await createNamespace(cluster, 'spod');
  t.teardown(() => deleteNamespace(cluster, ns));
  const clusterWide = `spod-test-${ns}`;

  // The webhook configuration of a single-namespace install in `ns`: it selects only `ns`, where no pod is
  // ever created, so its unreachable URL cannot get in anyone's way.
  const mwc = webhookConfiguration({ url: 'https://127.0.0.1:1' }, ns, undefined, { watchNamespace: ns });
  mwc.metadata.name = clusterWide;
  await admission.createMutatingWebhookConfiguration({ body: mwc as V1MutatingWebhookConfiguration });
  t.teardown(() => admission.deleteMutatingWebhookConfiguration({ name: clusterWide }).catch(() => {}));

  // manifests/base/rbac-manager.yaml, moved into `ns` and renamed so it cannot touch the installed operator's.
  await cluster.core.createNamespacedServiceAccount({
    namespace: ns,
    body: { metadata: { name: 'spo-manager' } },
  });
  const manifest = readFileSync(join(repoRoot, 'manifests/base/rbac-manager.yaml'), 'utf8')
    .replaceAll('spo-mutating-webhook-configuration', clusterWide)
    .replaceAll('namespace: security-profiles-operator', `namespace: ${ns}`);
  for (const doc of loadAllYaml(manifest) as unknown[]) {
    const body = doc as { kind: string; metadata: { name: string }; roleRef?: { name: string } };
    const { kind } = body;
    if (kind === 'ClusterRole') {
      body.metadata.name = clusterWide;
      await rbac.createClusterRole({ body: body as never });
      t.teardown(() => rbac.deleteClusterRole({ name: clusterWide }).catch(() => {}));
    } else if (kind === 'ClusterRoleBinding') {
      body.metadata.name = clusterWide;
      if (body.roleRef) body.roleRef.name = clusterWide;
      await rbac.createClusterRoleBinding({ body: body as never });
      t.teardown(() => rbac.deleteClusterRoleBinding({ name: clusterWide }).catch(() => {}));
    } else if (kind === 'Role') {
      await rbac.createNamespacedRole({ namespace: ns, body: body as never });
    } else if (kind === 'RoleBinding') {
      await rbac.createNamespacedRoleBinding({ namespace: ns, body: body as never });
    }
  }

  const dir = t.testdir({});
  const kubeconfig = join(dir, 'manager.kubeconfig');
  const admin = loadAllYaml(readFileSync(paths.kubeconfig, 'utf8'))[0] as {
    users: Array<{ user: Record<string, unknown> }>;
  };
  for (const u of admin.users) u.user['as'] = `system:serviceaccount:${ns}:spo-manager`;
  writeFileSync(kubeconfig, JSON.stringify(admin), { mode: 0o600 });

  const spods = { ...SPODS, namespace: ns };
  const readSpod = () =>
    custom.getNamespacedCustomObject({ ...spods, name: 'spod' }).then(
      (s) => s as Spod,
      (e: unknown) => {
        if (statusOf(e) === 404) return undefined;
        throw e;
      },
    );
  const patchSpod = (spec: Record<string, unknown>) =>
    custom.patchNamespacedCustomObject({ ...spods, name: 'spod', body: { spec } }, MERGE) as Promise<Spod>;
  const readDs = () => cluster.apps.readNamespacedDaemonSet({ name: 'spod', namespace: ns });
  const containers = (ds: V1DaemonSet) => ds.spec?.template.spec?.containers ?? [];
  const args = (ds: V1DaemonSet, name: string) => containers(ds).find((c) => c.name === name)?.args ?? [];
  const states = new Set<string>();

  /** The DaemonSet rendered for `spec`, once the spod's status reports the generation that asked for it. */
  async function rolledTo(spec: Record<string, unknown>, what: string): Promise<V1DaemonSet> {
    const hash = configHash(spodConfig(spec));
    const ds = await waitFor(
      async () => {
        const d = await readDs();
        return d.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION] === hash ? d : false;
      },
      { what: `DaemonSet spod rendered for ${what}`, timeoutMs: 30_000 },
    );
    // The DaemonSet controller has seen the template and the manager has reported on it since; any second
    // write of the DaemonSet would have happened by then.
    const spod = await waitFor(
      async () => {
        const s = await readSpod();
        const ready = s?.status?.conditions?.find((c) => c.type === 'Ready');
        return s?.status?.observedGeneration === s?.metadata.generation &&
          ready !== undefined &&
          !ready.message.includes('not yet rolled out')
          ? s
          : false;
      },
      { what: `spod status for ${what}`, timeoutMs: 30_000 },
    );
    states.add(spod.status?.state ?? '');
    return ds;
  }

  const manager: RoleProcess = startRole(
    [
      'manager',
      '--kubeconfig',
      kubeconfig,
      '--operator-namespace',
      ns,
      '--watch-namespace',
      ns,
      '--webhook-configuration',
      clusterWide,
      '--leader-elect',
      'false',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--cert-dir',
      join(dir, 'certs'),
      '--cert-host',
      '127.0.0.1',
    ],
    { SPOD_IMAGE: IMAGE, KUBELET_DIR: cluster.kubeletDir },
  );
  t.teardown(() => manager.stop());
  const updates = () => manager.lines.filter((l) => l['msg'] === 'DaemonSet spod updated').length;

  await t.test('first start: spod with the defaults, DaemonSet spod with the daemon alone', async (t) => {
    const spod = await waitFor(readSpod, { what: 'spod created by the manager', timeoutMs: 60_000 });
    t.same(spod.spec, {
      verbosity: 0,
      enableBpfRecorder: false,
      enableLogEnricher: false,
      enableProfiling: false,
      hostProcVolumePath: '/proc',
    });
    const ds = await rolledTo({}, 'the defaults');
    t.same(
      containers(ds).map((c) => c.name),
      ['daemon'],
    );
    t.equal(containers(ds)[0]?.image, IMAGE, 'created from the manifests with SPOD_IMAGE');
    t.ok(args(ds, 'daemon').includes('--verbosity=0'));
    t.notOk(ds.spec?.template.spec?.hostPID);
    const status = (await readSpod())?.status;
    t.match(status?.conditions, [{ type: 'Ready', status: 'False' }]);
    t.ok(NOT_RUNNING.includes(status?.state ?? ''), `state ${status?.state} while no pod can run`);
    const events = await waitFor(
      async () => {
        const list = await cluster.core.listNamespacedEvent({
          namespace: ns,
          fieldSelector: 'involvedObject.kind=SecurityProfilesOperatorDaemon,involvedObject.name=spod',
        });
        return list.items.some((e) => e.reason === 'DaemonSetCreated') ? list.items : false;
      },
      { what: 'a DaemonSetCreated Event on the spod' },
    );
    t.match(
      events.find((e) => e.reason === 'DaemonSetCreated')?.message,
      /verbosity 0, bpf-recorder off, log-enricher off/,
    );
  });

  // The seed's `kubectl patch spod spod --type=merge` commands, one after the other, as a user would run them.
  await t.test('the seed patches roll the DaemonSet, one write each', async (t) => {
    const spec: Record<string, unknown> = {};
    const before = updates();
    let generation = (await readDs()).metadata?.generation ?? 0;
    const step = async (patch: Record<string, unknown>, what: string) => {
      Object.assign(spec, patch);
      await patchSpod(patch);
      const ds = await rolledTo(spec, what);
      t.equal(ds.metadata?.generation, generation + 1, `${what}: one DaemonSet write`);
      generation = ds.metadata?.generation ?? generation;
      return ds;
    };

    let ds = await step({ verbosity: 1 }, 'verbosity 1');
    t.ok(args(ds, 'daemon').includes('--verbosity=1'), 'Set logging verbosity');

    ds = await step({ enableBpfRecorder: true }, 'enableBpfRecorder');
    t.same(
      containers(ds).map((c) => c.name),
      ['daemon', 'bpf-recorder'],
    );
    t.equal(ds.spec?.template.spec?.hostPID, true);
    t.ok(args(ds, 'daemon').includes('--recorder-socket=/var/run/seccomp-profiles-operator/recorder.sock'));
    t.same(args(ds, 'bpf-recorder').slice(0, 1), ['recorder']);
    t.ok(args(ds, 'bpf-recorder').includes('--verbosity=1'), 'the verbosity reaches every container');
    t.match(containers(ds)[1]?.securityContext?.capabilities, {
      drop: ['ALL'],
      add: ['BPF', 'PERFMON', 'SYS_RESOURCE', 'SYS_ADMIN'],
    });

    ds = await step({ enableLogEnricher: true }, 'enableLogEnricher');
    t.same(
      containers(ds).map((c) => c.name),
      ['daemon', 'bpf-recorder', 'log-enricher'],
    );

    ds = await step({ enableProfiling: true }, 'enableProfiling');
    for (const [name, port] of [
      ['daemon', 6060],
      ['log-enricher', 6061],
      ['bpf-recorder', 6062],
    ] as const) {
      t.ok(
        args(ds, name).includes('--enable-profiling') && args(ds, name).includes(`--profiling-port=${port}`),
        `${name} profiles on ${port}`,
      );
    }

    ds = await step({ hostProcVolumePath: '/my-proc' }, 'hostProcVolumePath /my-proc');
    t.same(ds.spec?.template.spec?.volumes?.find((v) => v.name === 'host-proc')?.hostPath, {
      path: '/my-proc',
      type: 'Directory',
    });

    ds = await step({ enableBpfRecorder: false, enableLogEnricher: false }, 'recorder and enricher off');
    t.same(
      containers(ds).map((c) => c.name),
      ['daemon'],
    );
    t.notOk(ds.spec?.template.spec?.hostPID, 'no host PID without recorder or enricher');
    t.notOk(ds.spec?.template.spec?.volumes?.some((v) => v.name === 'host-proc'));

    t.equal(updates() - before, 6, 'the manager logged exactly one update per patch');
    for (const s of states) t.ok(NOT_RUNNING.includes(s), `state ${s} while no pod can run`);
  });

  await t.test('invalid specs are refused by the schema, saying what is wrong', async (t) => {
    const refused = async (spec: Record<string, unknown>, message: RegExp) => {
      const err = await patchSpod(spec).then(
        () => undefined,
        (e: unknown) => e,
      );
      t.equal(statusOf(err), 422, JSON.stringify(spec));
      t.match(describeError(err).reason, message);
    };
    await refused({ verbosity: 5 }, /spec\.verbosity: Unsupported value: 5: supported values: "0", "1"/);
    await refused(
      { hostProcVolumePath: '/proc/../etc' },
      /hostProcVolumePath.*without '\.' or '\.\.' segments/,
    );
    await refused({ hostProcVolumePath: 'proc' }, /hostProcVolumePath.*absolute path/);
    await refused({ webhookOptions: [{ name: 'other.spo.io' }] }, /Unsupported value: "other\.spo\.io"/);
  });

  await t.test('webhook options patch the configuration, and leave the caBundle alone', async (t) => {
    const excluded = {
      key: 'kubernetes.io/metadata.name',
      operator: 'NotIn',
      values: [...SYSTEM_NAMESPACES],
    };
    const read = () => admission.readMutatingWebhookConfiguration({ name: clusterWide });
    const hook = (c: V1MutatingWebhookConfiguration, name: string) =>
      c.webhooks?.find((w) => w.name === name);
    await waitFor(async () => (await read()).webhooks?.every((w) => w.clientConfig.caBundle), {
      what: 'the caBundle published by the manager',
    });
    const selector = { matchLabels: { 'spod-test': ns } };
    await patchSpod({
      webhookOptions: [{ name: 'binding.spo.io', failurePolicy: 'Ignore', namespaceSelector: selector }],
    });
    const changed = await waitFor(
      async () => {
        const c = await read();
        return hook(c, 'binding.spo.io')?.failurePolicy === 'Ignore' ? c : false;
      },
      { what: 'binding.spo.io failurePolicy Ignore' },
    );
    t.same(hook(changed, 'binding.spo.io')?.namespaceSelector, { ...selector, matchExpressions: [excluded] });
    const defaults = webhookConfiguration({ url: 'x' }, ns, undefined, { watchNamespace: ns }).webhooks;
    t.equal(hook(changed, 'recording.spo.io')?.failurePolicy, 'Ignore');
    t.same(
      hook(changed, 'recording.spo.io')?.namespaceSelector,
      defaults.find((w) => w.name === 'recording.spo.io')?.namespaceSelector,
      'recording hook unchanged',
    );
    t.ok(
      changed.webhooks?.every((w) => w.clientConfig.caBundle),
      'caBundle kept',
    );

    await patchSpod({ webhookOptions: null });
    const restored = await waitFor(
      async () => {
        const c = await read();
        return hook(c, 'binding.spo.io')?.failurePolicy === 'Fail' ? c : false;
      },
      { what: 'binding.spo.io back to Fail' },
    );
    t.same(
      hook(restored, 'binding.spo.io')?.namespaceSelector,
      defaults.find((w) => w.name === 'binding.spo.io')?.namespaceSelector,
      'default selector restored',
    );
  });

  await t.test('a ServiceMonitor only once the Prometheus Operator CRD is served', async (t) => {
    const crdName = 'servicemonitors.monitoring.coreos.com';
    const existing = await cluster.apiext.readCustomResourceDefinition({ name: crdName }).then(
      () => true,
      () => false,
    );
    if (!existing) {
      t.equal(
        manager.lines.filter((l) => l['msg'] === 'Deploying operator service monitor').length,
        0,
        'nothing deployed while the CRD is missing',
      );
      // Just enough of the Prometheus Operator's CRD for the manager to create a ServiceMonitor.
      await cluster.apiext.createCustomResourceDefinition({
        body: {
          metadata: { name: crdName },
          spec: {
            group: 'monitoring.coreos.com',
            names: {
              kind: 'ServiceMonitor',
              plural: 'servicemonitors',
              listKind: 'ServiceMonitorList',
              singular: 'servicemonitor',
            },
            scope: 'Namespaced',
            versions: [
              {
                name: 'v1',
                served: true,
                storage: true,
                schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
              },
            ],
          },
        },
      });
      t.teardown(() => cluster.apiext.deleteCustomResourceDefinition({ name: crdName }).catch(() => {}));
      await waitFor(
        async () =>
          (await cluster.apiext.readCustomResourceDefinition({ name: crdName })).status?.conditions?.some(
            (c) => c.type === 'Established' && c.status === 'True',
          ),
        { what: 'the ServiceMonitor CRD Established' },
      );
    }
    // Any change of the spod makes the manager look again (as its periodic resync would).
    await patchSpod({ verbosity: 0 });
    const monitor = (await waitFor(
      () =>
        custom
          .getNamespacedCustomObject({
            group: 'monitoring.coreos.com',
            version: 'v1',
            plural: 'servicemonitors',
            namespace: ns,
            name: 'security-profiles-operator-monitor',
          })
          .catch(() => false),
      { what: 'ServiceMonitor security-profiles-operator-monitor' },
    )) as { spec: Record<string, unknown> };
    t.match(monitor.spec, {
      selector: {
        matchLabels: { 'app.kubernetes.io/name': 'spod', 'app.kubernetes.io/component': 'metrics' },
      },
      endpoints: [
        {
          port: 'https',
          scheme: 'https',
          path: '/metrics-spod',
          bearerTokenSecret: { name: 'metrics-token', key: 'token' },
          tlsConfig: { ca: { secret: { name: 'metrics-server-cert', key: 'ca.crt' } } },
        },
      ],
    });
    await manager.waitForLog((l) => l['msg'] === 'Deploying operator service monitor', 10_000);
    const token = await cluster.core.readNamespacedSecret({ name: 'metrics-token', namespace: ns });
    t.equal(token.type, 'kubernetes.io/service-account-token');
  });

  await t.test('deleting the spod brings the defaults back, and the DaemonSet with them', async (t) => {
    await patchSpod({ enableBpfRecorder: true });
    await rolledTo(
      { verbosity: 0, enableBpfRecorder: true, enableProfiling: true, hostProcVolumePath: '/my-proc' },
      'recorder on',
    );
    const old = (await readSpod())?.metadata.uid;
    await custom.deleteNamespacedCustomObject({ ...spods, name: 'spod' });
    const fresh = await waitFor(
      async () => {
        const s = await readSpod();
        return s !== undefined && s.metadata.uid !== old ? s : false;
      },
      { what: 'spod re-created' },
    );
    t.equal(fresh.spec['enableBpfRecorder'], false);
    t.equal(fresh.spec['verbosity'], 0);
    const ds = await rolledTo({}, 'the defaults again');
    t.same(
      containers(ds).map((c) => c.name),
      ['daemon'],
    );
  });
}
