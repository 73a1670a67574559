// Our own REST client against the real apiserver: CRUD on a built-in and a custom resource, the reviews the
// daemon's /metrics guard makes, impersonation, in-cluster credentials from a real bound token, and informers
// through watches the server ends, a 410 and paged lists.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { parse } from 'yaml';
import {
  ApiError,
  CONFIG_MAPS,
  createKubeClient,
  describeError,
  informerFromSource,
  isGone,
  type KubeObject,
  type ListWatchSource,
  listWatchSource,
  loadRestConfig,
  KubeClient,
  makeRestInformer,
  PODS,
  statusOf,
  type Informer,
} from '../../../src/k8s/rest/index.js';
import { SECCOMP_PROFILES } from '../../../src/k8s/resources.js';
import { paths } from '../../env/layout.js';
import { createNamespace, deleteNamespace, requireCluster, waitFor } from '../../helpers/cluster.js';

const OPERATOR_NAMESPACE = 'security-profiles-operator';
const DAEMON_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:spo-daemon`;

type ConfigMap = KubeObject & { data?: Record<string, string> };
type Profile = KubeObject & { spec: { defaultAction: string; syscalls?: unknown[] } };

const cluster = await requireCluster(t);
if (cluster !== undefined) {
  const log = pino({ level: 'warn' }, pino.destination(2));
  const admin = await createKubeClient(paths.kubeconfig);
  t.teardown(() => admin.close());
  const namespace = await createNamespace(cluster, 'rest');
  t.teardown(() => deleteNamespace(cluster, namespace));

  // The dev kubeconfig as JSON with `as`, the form scripts/dev writes for the operator's roles.
  const dir = t.testdir({});
  const doc = parse(readFileSync(paths.kubeconfig, 'utf8')) as {
    users: Array<{ user: Record<string, unknown> }>;
  };
  for (const u of doc.users) u.user['as'] = DAEMON_USER;
  writeFileSync(join(dir, 'daemon.kubeconfig'), JSON.stringify(doc), { mode: 0o600 });
  const daemon = await createKubeClient(join(dir, 'daemon.kubeconfig'));
  t.teardown(() => daemon.close());

  const cm = { ...CONFIG_MAPS, namespace };
  const profiles = { ...SECCOMP_PROFILES, namespace };
  const profileBody = (name: string, labels: Record<string, string> = {}): Profile => ({
    apiVersion: `${SECCOMP_PROFILES.group}/${SECCOMP_PROFILES.version}`,
    kind: 'SeccompProfile',
    metadata: { name, namespace, labels },
    spec: { defaultAction: 'SCMP_ACT_LOG' },
  });

  await t.test(
    'ConfigMap: create, get, list by selector, three kinds of patch, replace, delete',
    async (t) => {
      const created = await admin.create<ConfigMap>({
        ...cm,
        body: { metadata: { name: 'one', labels: { app: 'rest' } }, data: { a: '1' } },
      });
      t.equal(created.metadata?.namespace, namespace);
      t.match(await admin.get<ConfigMap>({ ...cm, name: 'one' }), { data: { a: '1' } });
      t.equal((await admin.list({ ...cm, labelSelector: 'app=rest' })).items.length, 1);
      t.equal((await admin.list({ ...cm, labelSelector: 'app in (other,x)' })).items.length, 0);
      t.equal((await admin.list({ ...cm, fieldSelector: 'metadata.name=one' })).items.length, 1);
      await admin.patch({ ...cm, name: 'one', patchType: 'merge', body: { data: { b: '2' } } });
      await admin.patch({
        ...cm,
        name: 'one',
        patchType: 'json',
        body: [{ op: 'add', path: '/data/c', value: '3' }],
      });
      await admin.patch({ ...cm, name: 'one', patchType: 'strategic', body: { data: { d: '4' } } });
      await admin.patch({
        ...cm,
        name: 'one',
        patchType: 'apply',
        fieldManager: 'rest-test',
        force: true,
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' }, data: { e: '5' } },
      });
      const patched = await admin.get<ConfigMap>({ ...cm, name: 'one' });
      t.same(patched.data, { a: '1', b: '2', c: '3', d: '4', e: '5' });

      const replaced = await admin.replace<ConfigMap>({
        ...cm,
        name: 'one',
        body: { ...patched, data: { only: 'x' } },
      });
      t.same(replaced.data, { only: 'x' });
      const stale = await admin.replace({ ...cm, name: 'one', body: patched }).catch((e: unknown) => e);
      t.ok(stale instanceof ApiError, 'a stale resourceVersion fails');
      t.equal(statusOf(stale), 409);
      t.match(describeError(stale), { code: 409, reason: /the object has been modified/ });
      t.match(stale, { reason: 'Conflict' });
      const again = await admin
        .create({ ...cm, body: { metadata: { name: 'one' } } })
        .catch((e: unknown) => e);
      t.match(again, { code: 409, reason: 'AlreadyExists' });

      await admin.delete({ ...cm, name: 'one' });
      const missing = await admin.get({ ...cm, name: 'one' }).catch((e: unknown) => e);
      t.equal(statusOf(missing), 404);
      t.match(describeError(missing).reason, /configmaps "one" not found/);
    },
  );

  await t.test('SeccompProfile: create, get, merge patch, list across namespaces, delete', async (t) => {
    await admin.create({ ...profiles, body: profileBody('rest-profile', { 'rest-test': namespace }) });
    const got = await admin.get<Profile>({ ...profiles, name: 'rest-profile' });
    t.equal(got.spec.defaultAction, 'SCMP_ACT_LOG');
    const syscalls = [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }];
    const patched = await admin.patch<Profile>({
      ...profiles,
      name: 'rest-profile',
      patchType: 'merge',
      body: { spec: { syscalls } },
    });
    t.same(patched.spec.syscalls, syscalls);
    const all = await admin.list<Profile>({ ...SECCOMP_PROFILES, labelSelector: `rest-test=${namespace}` });
    t.same(
      all.items.map((p) => p.metadata?.name),
      ['rest-profile'],
    );
    const invalid = await admin
      .create({ ...profiles, body: { ...profileBody('bad'), spec: { defaultAction: 'SCMP_ACT_NOPE' } } })
      .catch((e: unknown) => e);
    t.equal(statusOf(invalid), 422, 'the CRD schema refuses an invalid profile');
    await admin.delete({ ...profiles, name: 'rest-profile', propagationPolicy: 'Background' });
    await waitFor(
      () =>
        admin.get({ ...profiles, name: 'rest-profile' }).then(
          () => false,
          (e: unknown) => statusOf(e) === 404,
        ),
      { what: 'profile gone' },
    );
  });

  await t.test('impersonation: the daemon kubeconfig has exactly the spo-daemon RBAC', async (t) => {
    t.same(daemon.config.impersonate, { user: DAEMON_USER, groups: [], extra: {} });
    const pods = await daemon.list({ ...PODS, fieldSelector: `spec.nodeName=${cluster.nodeName}` });
    t.ok(
      pods.items.every((p) => (p as { spec?: { nodeName?: string } }).spec?.nodeName === cluster.nodeName),
    );
    const secrets = await daemon
      .list({ group: '', version: 'v1', plural: 'secrets', namespace })
      .catch((e) => e);
    t.equal(statusOf(secrets), 403);
    t.match(
      describeError(secrets).reason,
      new RegExp(`User "${DAEMON_USER}" cannot list resource "secrets"`),
    );
  });

  await t.test('TokenReview and SubjectAccessReview, as the /metrics guard makes them', async (t) => {
    const token = await cluster.core.createNamespacedServiceAccountToken({
      name: 'default',
      namespace: OPERATOR_NAMESPACE,
      body: { spec: { expirationSeconds: 600 } },
    });
    const review = await daemon.createTokenReview({ body: { spec: { token: token.status?.token ?? '' } } });
    t.equal(review.status?.authenticated, true);
    const user = review.status?.user;
    t.equal(user?.username, `system:serviceaccount:${OPERATOR_NAMESPACE}:default`);
    t.ok(user?.groups?.includes('system:serviceaccounts'));
    const access = await daemon.createSubjectAccessReview({
      body: {
        spec: {
          user: user?.username,
          groups: user?.groups,
          uid: user?.uid,
          extra: user?.extra,
          nonResourceAttributes: { path: '/metrics', verb: 'get' },
        },
      },
    });
    t.equal(access.status?.allowed, true, 'spo-metrics-client binds the operator namespace default account');
    const denied = await daemon.createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${namespace}:default`,
          nonResourceAttributes: { path: '/metrics', verb: 'get' },
        },
      },
    });
    t.equal(denied.status?.allowed, false);
    const bogus = await daemon.createTokenReview({ body: { spec: { token: 'not-a-token' } } });
    t.notOk(bogus.status?.authenticated);
  });

  await t.test('in-cluster credentials: a real bound token and the cluster CA', async (t) => {
    const token = await cluster.core.createNamespacedServiceAccountToken({
      name: 'default',
      namespace,
      body: { spec: { expirationSeconds: 600 } },
    });
    const sa = t.testdir({
      token: token.status?.token ?? '',
      'ca.crt': readFileSync(join(paths.pki, 'ca.crt'), 'utf8'),
      namespace,
    });
    const server = new URL(admin.config.server);
    const config = await loadRestConfig(undefined, {
      env: { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port },
      home: join(sa, 'no-home'),
      serviceAccountDir: sa,
    });
    t.equal(config.source, 'in-cluster');
    const client = new KubeClient(config);
    t.teardown(() => client.close());
    const self = await client.create<KubeObject & { status?: { userInfo?: { username?: string } } }>({
      group: 'authentication.k8s.io',
      version: 'v1',
      plural: 'selfsubjectreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    t.equal(self.status?.userInfo?.username, `system:serviceaccount:${namespace}:default`);
    t.equal(statusOf(await client.list(cm).catch((e) => e)), 403, 'and only what that account may do');
  });

  await t.test('a watch the server ends resolves; a stale version is a 410', async (t) => {
    const started = Date.now();
    const events: string[] = [];
    await admin.watch({ ...cm, timeoutSeconds: 1 }, (e) =>
      events.push(`${e.type} ${e.object.metadata?.name}`),
    );
    t.ok(Date.now() - started >= 900, 'held open until the server timeout');
    t.ok(events.includes('ADDED kube-root-ca.crt'), 'no version: the current state first');
    const stale = await admin
      .watch({ ...profiles, resourceVersion: '1', timeoutSeconds: 5 }, () => {})
      .catch((e) => e);
    t.ok(isGone(stale), `watch from version 1: ${describeError(stale).reason}`);
    const aborted = await admin
      .watch({ ...cm, timeoutSeconds: 30, signal: AbortSignal.timeout(200) }, () => {})
      .catch((e: unknown) => e);
    t.match(aborted, { name: /AbortError|TimeoutError/ }, 'an aborted watch rejects');
  });

  const watchCounting = <T extends KubeObject>(source: ListWatchSource<T>) => {
    const counts = { lists: 0, watches: 0 };
    const counted: ListWatchSource<T> = {
      list: (signal) => {
        counts.lists++;
        return source.list(signal);
      },
      watch: (rv, onEvent, signal) => {
        counts.watches++;
        return source.watch(rv, onEvent, signal);
      },
    };
    return { counts, counted };
  };
  const recorder = <T extends KubeObject>(informer: Informer<T>) => {
    const seen: string[] = [];
    informer.onChange((o, verb) => seen.push(`${verb} ${o.metadata?.name}`));
    return seen;
  };

  await t.test('informer: add, update, delete, across watches the server keeps ending', async (t) => {
    const source = listWatchSource<ConfigMap>(admin, cm, {
      labelSelector: 'informer=yes',
      watchTimeoutSeconds: 1,
    });
    const { counts, counted } = watchCounting(source);
    const informer = informerFromSource(counted, { log, what: 'configmaps' });
    t.teardown(() => informer.stop());
    const seen = recorder(informer);
    await informer.start();
    t.ok(informer.synced());
    await admin.create({
      ...cm,
      body: { metadata: { name: 'watched', labels: { informer: 'yes' } }, data: { v: '1' } },
    });
    await waitFor(() => informer.cache.get('watched', namespace), { what: 'add seen' });
    t.equal(informer.cache.get('watched', namespace)?.kind, 'ConfigMap');
    const after = counts.watches;
    await waitFor(() => counts.watches >= after + 2, { what: 'two more watches', timeoutMs: 15_000 });
    await admin.patch({ ...cm, name: 'watched', patchType: 'merge', body: { data: { v: '2' } } });
    await waitFor(() => informer.cache.get('watched', namespace)?.data?.['v'] === '2', {
      what: 'update seen',
    });
    await admin.delete({ ...cm, name: 'watched' });
    await waitFor(() => informer.cache.get('watched', namespace) === undefined, { what: 'delete seen' });
    t.same(seen, ['add watched', 'update watched', 'delete watched']);
    t.equal(counts.lists, 1, 'no relist: each watch resumed where the last one ended');
    t.same(informer.cache.list(namespace), []);
  });

  await t.test('informer: a 410 lists again and reports deletes, updates and adds it missed', async (t) => {
    for (const name of ['keep', 'change', 'drop']) {
      await admin.create({ ...profiles, body: profileBody(name, { relist: 'yes' }) });
    }
    const source = listWatchSource<Profile>(admin, profiles, { labelSelector: 'relist=yes' });
    let first = true;
    const stale: ListWatchSource<Profile> = {
      list: (signal) => source.list(signal),
      async watch(rv, onEvent, signal) {
        if (!first) return source.watch(rv, onEvent, signal);
        first = false;
        // Changes the informer will not see as events, then a version the apiserver no longer has: a real 410.
        await admin.delete({ ...profiles, name: 'drop' });
        await admin.patch({
          ...profiles,
          name: 'change',
          patchType: 'merge',
          body: { spec: { syscalls: [] } },
        });
        await admin.create({ ...profiles, body: profileBody('new', { relist: 'yes' }) });
        await waitFor(
          () =>
            admin.get({ ...profiles, name: 'drop' }).then(
              () => false,
              (e: unknown) => statusOf(e) === 404,
            ),
          { what: 'drop deleted' },
        );
        return source.watch('1', onEvent, signal);
      },
    };
    const { counts, counted } = watchCounting(stale);
    const informer = informerFromSource(counted, { log, what: 'seccompprofiles' });
    t.teardown(() => informer.stop());
    await informer.start();
    const seen = recorder(informer);
    await waitFor(() => counts.lists === 2 && informer.cache.get('new', namespace), {
      what: 'relist after 410',
    });
    t.ok(seen.includes('delete drop'), 'gone object reported deleted');
    t.ok(seen.includes('update change'), 'changed object reported updated');
    t.ok(seen.includes('add new'), 'new object reported added');
    t.notOk(
      seen.some((s) => s.endsWith(' keep') && !s.startsWith('update')),
      'unchanged object not added or deleted',
    );
    t.same(
      informer.cache
        .list(namespace)
        .map((p) => p.metadata?.name)
        .sort(),
      ['change', 'keep', 'new'],
    );
  });

  await t.test('informer: the first list comes in pages', async (t) => {
    for (let i = 0; i < 5; i++) {
      await admin.create({ ...cm, body: { metadata: { name: `page-${i}`, labels: { paged: 'yes' } } } });
    }
    const informer = makeRestInformer<ConfigMap>(admin, cm, {
      log,
      what: 'paged',
      labelSelector: 'paged=yes',
      pageSize: 2,
    });
    t.teardown(() => informer.stop());
    await informer.start();
    t.same(
      informer.cache
        .list(namespace)
        .map((c) => c.metadata?.name)
        .sort(),
      ['page-0', 'page-1', 'page-2', 'page-3', 'page-4'],
    );
  });
}
