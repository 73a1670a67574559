import { existsSync, readFileSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, CustomObjectsApi, type V1Secret } from '@kubernetes/client-node';
import t from 'tap';
import {
  type Cluster,
  createNamespace,
  deleteNamespace,
  requireCluster,
  waitFor,
} from '../../helpers/cluster.js';
import { get } from '../../env/http.js';
import { paths } from '../../env/layout.js';
import { logPath, runningPid } from '../../env/processes.js';
import {
  ensureOperator,
  managerDaemon,
  OPERATOR_NAMESPACE,
  operatorPaths,
  operatorPorts,
  startManager,
  startWebhook,
  stopOperator,
  waitCaBundle,
  waitManagerReady,
  waitWebhookReady,
  webhookDaemon,
  webhookUrl,
} from '../../env/operator.js';
import { stopDaemon } from '../../env/processes.js';
import { CA_SECRET } from '../../../src/manager/certificates.js';
import { POD_SETTLE_MS } from '../../../src/manager/controller.js';
import { createCa } from '../../../src/manager/x509.js';
import { WEBHOOK_CONFIGURATION_NAME } from '../../../src/webhook/configuration.js';
import { createPod, type PodLike } from './kube.js';
import { httpsRequest, spawnRole } from './helpers.js';

const GROUP = 'security-profiles-operator.x-k8s.io';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const seeds = join(import.meta.dirname, '../../fixtures/seeds');

const cluster = await requireCluster(t);
if (cluster) await main(cluster);

async function main(c: Cluster) {
  const custom = c.kc.makeApiClient(CustomObjectsApi);
  // Only what the processes log during this run counts for the forbidden check below.
  const logStart = Object.fromEntries(
    [webhookDaemon, managerDaemon].map((d) => [d, existsSync(logPath(d)) ? statSync(logPath(d)).size : 0]),
  );
  const { started } = await ensureOperator(c.kc);
  // A run that started the operator stops it; one a developer started (scripts/dev up) is left running.
  t.teardown(async () => {
    if (started.length > 0) await stopOperator();
  });

  const createCustom = (namespace: string, plural: string, version: string, body: Record<string, unknown>) =>
    custom.createNamespacedCustomObject({ group: GROUP, version, namespace, plural, body });
  const profile = (namespace: string, name: string) =>
    createCustom(namespace, 'seccompprofiles', 'v1beta1', {
      apiVersion: `${GROUP}/v1beta1`,
      kind: 'SeccompProfile',
      metadata: { name, namespace },
      spec: { defaultAction: 'SCMP_ACT_LOG' },
    });
  const binding = (namespace: string, name: string, image: string, profileName: string) =>
    createCustom(namespace, 'profilebindings', 'v1alpha1', {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ProfileBinding',
      metadata: { name, namespace },
      spec: { profileRef: { kind: 'SeccompProfile', name: profileName }, image },
    });
  const seed = (file: string) => {
    const text = readFileSync(join(seeds, file), 'utf8');
    return (import('yaml') as Promise<typeof import('yaml')>).then(
      (y) => y.parse(text) as Record<string, unknown>,
    );
  };
  const webhookRequests = async () => {
    const res = await httpsRequest(`${webhookUrl()}/metrics`, {
      ca: readFileSync(join(operatorPaths.certDir, 'ca.crt'), 'utf8'),
    });
    return [...res.body.matchAll(/^webhook_admission_requests_total\{[^}]*\} (\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
  };
  /** Reviews each webhook path answered so far, by the webhook's own counter. */
  const callsOf = async (webhook: 'binding' | 'recording') => {
    const res = await httpsRequest(`${webhookUrl()}/metrics`, {
      ca: readFileSync(join(operatorPaths.certDir, 'ca.crt'), 'utf8'),
    });
    const re = new RegExp(
      `^webhook_admission_requests_total\\{[^}]*webhook="${webhook}"[^}]*\\} (\\d+)`,
      'gm',
    );
    return [...res.body.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  };
  /** The seed's eBPF ProfileRecording (my-recording, selects app: my-app) in `namespace`. */
  const seedRecording = async (namespace: string) => {
    const bpf = await seed('recording-bpf.yaml');
    await createCustom(namespace, 'profilerecordings', 'v1alpha1', {
      ...bpf,
      metadata: { ...(bpf['metadata'] as object), namespace },
    });
  };
  /** Deletes the namespace's last binding and waits for the manager to take the opt-in label away. */
  const deleteLastBinding = async (namespace: string, name: string) => {
    await custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: 'v1alpha1',
      namespace,
      plural: 'profilebindings',
      name,
    });
    await waitFor(
      async () =>
        !(
          'spo.x-k8s.io/enable-binding' in
          ((await c.core.readNamespace({ name: namespace })).metadata?.labels ?? {})
        ),
      { what: 'the opt-in label removed with the last binding', timeoutMs: 60_000 },
    );
  };
  const profileOf = (p: PodLike, i = 0, init = false) =>
    (init ? p.spec?.initContainers : p.spec?.containers)?.[i]?.securityContext?.['seccompProfile'] as
      | { type: string; localhostProfile?: string }
      | undefined;
  /** Waits until the namespace is labelled and the webhook's cache sees the binding (a dry-run admission is patched). */
  const untilBound = (namespace: string, image: string) =>
    waitFor(
      async () => {
        const res = await createPod(
          c.kc,
          namespace,
          { metadata: { name: 'probe' }, spec: { containers: [{ name: 'c', image }] } },
          true,
        );
        return res.status === 201 && profileOf(res.body) !== undefined;
      },
      { what: `binding for ${image} active in ${namespace}`, timeoutMs: 30_000 },
    );

  t.test('binding webhook: the seed ProfileBinding and its rules', async (t) => {
    const ns = await createNamespace(c, 'bind');
    t.teardown(() => deleteNamespace(c, ns));
    await profile(ns, 'profile-complain');
    const seedBinding = await seed('nginx-binding.yaml');
    await createCustom(ns, 'profilebindings', 'v1alpha1', {
      ...seedBinding,
      metadata: { ...(seedBinding['metadata'] as object), namespace: ns },
    });
    await waitFor(
      async () =>
        (await c.core.readNamespace({ name: ns })).metadata?.labels?.['spo.x-k8s.io/enable-binding'] !==
        undefined,
      { what: 'the manager to label the namespace', timeoutMs: 30_000 },
    );
    await untilBound(ns, 'nginx:1.19.1');
    const want = { type: 'Localhost', localhostProfile: `operator/${ns}/profile-complain.json` };

    const created = await createPod(c.kc, ns, {
      metadata: { name: 'nginx' },
      spec: {
        initContainers: [{ name: 'init', image: 'nginx:1.19.1' }],
        containers: [
          { name: 'nginx', image: 'nginx:1.19.1' },
          { name: 'long', image: 'docker.io/library/nginx:1.19.1' },
          { name: 'other', image: c.images.busybox },
        ],
      },
    });
    t.equal(created.status, 201, created.body.message ?? 'created');
    t.same(profileOf(created.body, 0), want, 'container-level localhostProfile');
    t.same(profileOf(created.body, 1), want, 'normalised image reference matches');
    t.same(profileOf(created.body, 0, true), want, 'init container too');
    t.equal(
      profileOf(created.body, 2),
      undefined,
      'an unmatched container without a "*" binding is untouched',
    );
    t.equal(
      (created.body.spec as { securityContext?: { seccompProfile?: unknown } }).securityContext
        ?.seccompProfile,
      undefined,
      'no pod-level change',
    );

    // Second admission pass: the admitted pod, sent again, comes back exactly as it went in.
    const again = await createPod(c.kc, ns, { metadata: { name: 'again' }, spec: created.body.spec }, true);
    const contexts = (spec: typeof created.body.spec) =>
      [...(spec.initContainers ?? []), ...spec.containers].map((x) => x.securityContext ?? null);
    t.same(contexts(again.body.spec), contexts(created.body.spec), 'idempotent, init containers too');

    // A binding whose profile does not exist: the pod is admitted as it was sent, with a warning naming it.
    await binding(ns, 'dangling', 'localhost/spo-test/demo:1', 'no-such-profile');
    const danglingPod = (name: string) =>
      createPod(
        c.kc,
        ns,
        { metadata: { name }, spec: { containers: [{ name: 'd', image: 'localhost/spo-test/demo:1' }] } },
        true,
      );
    const warned = await waitFor(
      async () => {
        const res = await danglingPod('dangling');
        return res.warnings.some((w) => w.includes('no-such-profile')) ? res : undefined;
      },
      { what: 'the dangling binding in the webhook cache', timeoutMs: 30_000 },
    );
    t.equal(warned.status, 201, 'a missing profile admits the pod');
    t.same(
      warned.body.spec.containers.map((x) => x.securityContext ?? null),
      [null],
      'unchanged: no securityContext added',
    );

    await profile(ns, 'any');
    await binding(ns, 'wildcard', '*', 'any');
    await waitFor(
      async () =>
        profileOf(
          (
            await createPod(
              c.kc,
              ns,
              { spec: { containers: [{ name: 'b', image: c.images.busybox }] } },
              true,
            )
          ).body,
        ) !== undefined,
      { what: 'the "*" binding in the webhook cache', timeoutMs: 30_000 },
    );
    const mixed = await createPod(
      c.kc,
      ns,
      {
        metadata: { name: 'mixed' },
        spec: {
          containers: [
            { name: 'nginx', image: 'nginx:1.19.1' },
            { name: 'other', image: c.images.busybox },
          ],
        },
      },
      true,
    );
    t.same(profileOf(mixed.body, 0), want, '"*" does not override the image binding');
    t.same(
      profileOf(mixed.body, 1),
      { type: 'Localhost', localhostProfile: `operator/${ns}/any.json` },
      '"*" covers the unmatched container',
    );

    const skipped = await danglingPod('dangling-wildcard');
    t.ok(
      skipped.warnings.some((w) => w.includes('no-such-profile')),
      'still warned once "*" exists',
    );
    t.same(
      profileOf(skipped.body),
      { type: 'Localhost', localhostProfile: `operator/${ns}/any.json` },
      'the skipped binding leaves the container to "*"',
    );
  });

  t.test('namespaces without bindings never reach the webhook', async (t) => {
    const ns = await createNamespace(c, 'plain');
    t.teardown(() => deleteNamespace(c, ns));
    const before = await webhookRequests();
    const res = await createPod(
      c.kc,
      ns,
      { spec: { containers: [{ name: 'nginx', image: 'nginx:1.19.1' }] } },
      true,
    );
    t.equal(res.status, 201);
    t.equal(profileOf(res.body), undefined);
    t.equal(await webhookRequests(), before, 'no admission request counted');
  });

  t.test('recording webhook: the seed ProfileRecordings', async (t) => {
    const ns = await createNamespace(c, 'rec');
    t.teardown(() => deleteNamespace(c, ns));
    await seedRecording(ns);
    const pod: PodLike = {
      metadata: { name: 'app', labels: { app: 'my-app' } },
      spec: {
        containers: [
          { name: 'nginx', image: 'nginx:1.19.1' },
          { name: 'sidecar', image: c.images.busybox },
        ],
      },
    };
    const recorded = await waitFor(
      async () => {
        const res = await createPod(c.kc, ns, pod, true);
        return res.body.metadata?.labels?.['spo.x-k8s.io/recording-id'] ? res : undefined;
      },
      { what: 'the recording in the webhook cache and the namespace labelled', timeoutMs: 30_000 },
    );
    t.equal(recorded.body.metadata?.labels?.['spo.x-k8s.io/recording-id'], 'my-recording');
    t.match(recorded.body.metadata?.annotations, {
      'io.containers.trace-bpf/nginx': 'my-recording',
      'io.containers.trace-bpf/sidecar': 'my-recording',
    });
    const nsLabels = (await c.core.readNamespace({ name: ns })).metadata?.labels ?? {};
    t.ok('spo.x-k8s.io/enable-recording' in nsLabels, 'namespace opted in by the manager');

    const limited = await seed('recording-logs.yaml');
    const ns2 = await createNamespace(c, 'reclogs');
    t.teardown(() => deleteNamespace(c, ns2));
    await createCustom(ns2, 'profilerecordings', 'v1alpha1', {
      ...limited,
      metadata: { ...(limited['metadata'] as object), namespace: ns2 },
      spec: { ...(limited['spec'] as object), containers: ['nginx'] },
    });
    const logs = await waitFor(
      async () => {
        const res = await createPod(c.kc, ns2, pod, true);
        return res.body.metadata?.labels?.['spo.x-k8s.io/recording-id'] ? res : undefined;
      },
      { what: 'the logs recording active', timeoutMs: 30_000 },
    );
    t.same(
      Object.keys(logs.body.metadata?.annotations ?? {}).filter((k) => k.startsWith('io.containers.trace')),
      ['io.containers.trace-logs/nginx'],
      'containers: limits the annotations',
    );
    t.same(profileOf(logs.body, 0), {
      type: 'Localhost',
      localhostProfile: `operator/${OPERATOR_NAMESPACE}/log-enricher-trace.json`,
    });
    t.equal(profileOf(logs.body, 1), undefined, 'the unselected container keeps its profile');
  });

  t.test('a pod both bound and recorded costs one webhook call, not two', async (t) => {
    const ns = await createNamespace(c, 'both');
    t.teardown(() => deleteNamespace(c, ns));
    await profile(ns, 'p1');
    await binding(ns, 'b1', 'nginx:1.19.1', 'p1');
    await seedRecording(ns);
    const pod: PodLike = {
      metadata: { name: 'app', labels: { app: 'my-app' } },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.19.1' }] },
    };
    const recordedAndBound = (p: PodLike) =>
      p.metadata?.labels?.['spo.x-k8s.io/recording-id'] === 'my-recording' && profileOf(p) !== undefined;
    await waitFor(
      async () => {
        const labels = (await c.core.readNamespace({ name: ns })).metadata?.labels ?? {};
        return (
          'spo.x-k8s.io/enable-binding' in labels &&
          'spo.x-k8s.io/enable-recording' in labels &&
          recordedAndBound((await createPod(c.kc, ns, pod, true)).body)
        );
      },
      { what: 'both opt-in labels and a dry run recorded and bound', timeoutMs: 30_000 },
    );
    const before = { binding: await callsOf('binding'), recording: await callsOf('recording') };
    const created = await createPod(c.kc, ns, pod);
    t.equal(created.status, 201);
    t.equal(created.body.metadata?.labels?.['spo.x-k8s.io/recording-id'], 'my-recording');
    t.same(created.body.metadata?.annotations?.['io.containers.trace-bpf/nginx'], 'my-recording');
    t.same(profileOf(created.body), { type: 'Localhost', localhostProfile: `operator/${ns}/p1.json` });
    t.same(
      { binding: await callsOf('binding'), recording: await callsOf('recording') },
      { binding: before.binding + 1, recording: before.recording },
      'the binding webhook answered for both; the recording webhook was not called',
    );

    // With the last binding gone the manager removes the binding label, and the recording webhook is called again.
    await c.core.deleteNamespacedPod({ name: 'app', namespace: ns, gracePeriodSeconds: 0 });
    await deleteLastBinding(ns, 'b1');
    const recordingBefore = await callsOf('recording');
    const alone = await createPod(c.kc, ns, { ...pod, metadata: { ...pod.metadata, name: 'app2' } }, true);
    t.equal(alone.body.metadata?.labels?.['spo.x-k8s.io/recording-id'], 'my-recording', 'still recorded');
    t.equal(profileOf(alone.body), undefined, 'no longer bound');
    t.equal(await callsOf('recording'), recordingBefore + 1, 'by the recording webhook');
  });

  /** A namespace whose binding b1 (profile p1) covers the pause image, with a pod `user` created under it. */
  const podUnderBinding = async (t: { teardown(fn: () => unknown): void }, prefix: string) => {
    const ns = await createNamespace(c, prefix);
    t.teardown(() => deleteNamespace(c, ns));
    await profile(ns, 'p1');
    await binding(ns, 'b1', c.images.pause, 'p1');
    await untilBound(ns, c.images.pause);
    const res = await createPod(c.kc, ns, {
      metadata: { name: 'user' },
      spec: { containers: [{ name: 'p', image: c.images.pause }] },
    });
    const ref = { group: GROUP, version: 'v1alpha1', namespace: ns, plural: 'profilebindings', name: 'b1' };
    const read = () =>
      custom.getNamespacedCustomObject(ref) as Promise<{
        metadata: { finalizers?: string[]; deletionTimestamp?: string };
        status?: { activeWorkloads?: string[] };
      }>;
    return { ns, ref, read, status: res.status };
  };

  t.test('manager: activeWorkloads and finalizer follow the pods', async (t) => {
    const { ns, read, status } = await podUnderBinding(t, 'usage');
    t.equal(status, 201);
    await waitFor(
      async () => {
        const b = await read();
        return (
          b.status?.activeWorkloads?.includes(`${ns}/user`) &&
          b.metadata.finalizers?.includes('active-workload-lock')
        );
      },
      { what: 'activeWorkloads and finalizer set', timeoutMs: 30_000 },
    );
    t.pass('in use: activeWorkloads lists the pod, finalizer active-workload-lock set');
    await c.core.deleteNamespacedPod({ name: 'user', namespace: ns, gracePeriodSeconds: 0 });
    await waitFor(
      async () => {
        const b = await read();
        return (
          (b.status?.activeWorkloads ?? []).length === 0 &&
          !(b.metadata.finalizers ?? []).includes('active-workload-lock')
        );
      },
      { what: 'activeWorkloads and finalizer cleared', timeoutMs: 60_000 },
    );
    t.pass('pod gone: activeWorkloads empty, finalizer removed');
    await deleteLastBinding(ns, 'b1');
    t.pass('last binding deleted: the manager removed the opt-in label it had set');
  });

  t.test('a binding in use is only marked for deletion until its last pod is gone', async (t) => {
    const { ns, ref, read, status } = await podUnderBinding(t, 'inuse');
    t.equal(status, 201);
    await waitFor(async () => (await read()).metadata.finalizers?.includes('active-workload-lock'), {
      what: 'the finalizer on the binding in use',
      timeoutMs: 30_000,
    });

    await custom.deleteNamespacedCustomObject(ref);
    // Past the manager's settle time for pod events, with a margin for its pass: one that wrongly dropped the
    // lock would show by then.
    await new Promise((r) => setTimeout(r, POD_SETTLE_MS + 1_500));
    const marked = await read();
    t.ok(marked.metadata.deletionTimestamp, 'deleted while in use: only marked');
    t.ok(marked.metadata.finalizers?.includes('active-workload-lock'), 'held by active-workload-lock');

    await c.core.deleteNamespacedPod({ name: 'user', namespace: ns, gracePeriodSeconds: 0 });
    await waitFor(
      () =>
        read().then(
          () => false,
          (err: { code?: number }) => err.code === 404,
        ),
      { what: 'the binding gone with its last pod', timeoutMs: 60_000 },
    );
    t.pass('last pod gone: the lock released and the binding deleted');
  });

  t.test('webhook down: binding namespaces refuse pods, recording namespaces admit them', async (t) => {
    const bindNs = await createNamespace(c, 'down-b');
    const recNs = await createNamespace(c, 'down-r');
    t.teardown(() => Promise.all([deleteNamespace(c, bindNs), deleteNamespace(c, recNs)]));
    await profile(bindNs, 'p1');
    await binding(bindNs, 'b1', 'nginx:1.19.1', 'p1');
    await createCustom(recNs, 'profilerecordings', 'v1alpha1', {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ProfileRecording',
      metadata: { name: 'r1', namespace: recNs },
      spec: { kind: 'SeccompProfile', recorder: 'bpf', podSelector: { matchLabels: { app: 'x' } } },
    });
    await untilBound(bindNs, 'nginx:1.19.1');
    const pod: PodLike = {
      metadata: { labels: { app: 'x' } },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.19.1' }] },
    };
    await waitFor(
      async () =>
        (await createPod(c.kc, recNs, pod, true)).body.metadata?.labels?.['spo.x-k8s.io/recording-id'] ===
        'r1',
      {
        what: 'recording active',
        timeoutMs: 30_000,
      },
    );

    await stopDaemon(webhookDaemon, 5_000);
    const refused = await createPod(c.kc, bindNs, pod, true);
    t.equal(refused.status, 500, 'binding (Fail): refused');
    t.match(refused.body.message, /binding\.spo\.io/, 'the apiserver names the webhook');
    const admitted = await createPod(c.kc, recNs, pod, true);
    t.equal(admitted.status, 201, 'recording (Ignore): admitted');
    t.equal(admitted.body.metadata?.labels?.['spo.x-k8s.io/recording-id'], undefined, 'unchanged');

    startWebhook();
    await waitWebhookReady();
    const after = await createPod(c.kc, bindNs, pod, true);
    t.equal(after.status, 201, 'after restart: admitted');
    t.same(
      profileOf(after.body),
      { type: 'Localhost', localhostProfile: `operator/${bindNs}/p1.json` },
      'and bound',
    );
    const recorded = await createPod(c.kc, recNs, pod, true);
    t.equal(recorded.body.metadata?.labels?.['spo.x-k8s.io/recording-id'], 'r1', 'and recorded again');
  });

  t.test('certificate rotation through the manager reaches the running webhook', async (t) => {
    const ca = () => readFileSync(join(operatorPaths.certDir, 'ca.crt'), 'utf8');
    const before = await httpsRequest(`${webhookUrl()}/healthz`, { ca: ca() });
    const pidBefore = readFileSync(join(paths.pids, `${webhookDaemon}.json`), 'utf8');
    // Deleting the serving Secret is what an expired or lost certificate looks like to the manager.
    await c.core.deleteNamespacedSecret({ name: 'webhook-server-cert', namespace: OPERATOR_NAMESPACE });
    const rotated = await waitFor(
      async () => {
        const res = await httpsRequest(`${webhookUrl()}/healthz`, { ca: ca() });
        return res.peerFingerprint !== before.peerFingerprint ? res : undefined;
      },
      { what: 'the webhook to present a new certificate', timeoutMs: 60_000 },
    );
    t.equal(
      rotated.peerFingerprint,
      new X509Certificate(readFileSync(join(operatorPaths.certDir, 'tls.crt'))).fingerprint256,
    );
    t.equal(
      readFileSync(join(paths.pids, `${webhookDaemon}.json`), 'utf8'),
      pidBefore,
      'same webhook process',
    );
    const ns = await createNamespace(c, 'rot');
    t.teardown(() => deleteNamespace(c, ns));
    await profile(ns, 'p1');
    await binding(ns, 'b1', 'nginx:1.19.1', 'p1');
    await untilBound(ns, 'nginx:1.19.1');
    t.pass('the apiserver still trusts the webhook after rotation');
  });

  t.test(
    'a CA due for replacement is replaced by the running manager with no failed admission',
    async (t) => {
      const ns = await createNamespace(c, 'carot');
      t.teardown(() => deleteNamespace(c, ns));
      await profile(ns, 'p1');
      await binding(ns, 'b1', 'nginx:1.19.1', 'p1');
      await untilBound(ns, 'nginx:1.19.1');
      const pem = (s: V1Secret, key: string) => Buffer.from(s.data?.[key] ?? '', 'base64').toString();
      const admission = c.kc.makeApiClient(AdmissionregistrationV1Api);
      const publishedBundle = async () => {
        const config = await admission.readMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME });
        return Buffer.from(config.webhooks?.[0]?.clientConfig.caBundle ?? '', 'base64').toString();
      };
      const readCa = () => c.core.readNamespacedSecret({ name: CA_SECRET, namespace: OPERATOR_NAMESPACE });

      // An install whose CA has 100 days left, less than two serving lifetimes: due for replacement. It is in the
      // bundle beside the CA that signed the certificate served now, as after any earlier hand-over.
      await stopDaemon(managerDaemon);
      const stored = await readCa();
      const trustedBefore = pem(stored, 'bundle.crt');
      let admitting = true;
      let traffic = Promise.resolve();
      // Puts back the CA this test replaced, so later tests and later runs on this cluster find the install as
      // it was: the manager issues the serving certificates under it again and publishes its bundle.
      t.teardown(async () => {
        admitting = false;
        await traffic;
        if (runningPid(managerDaemon) !== undefined) await stopDaemon(managerDaemon);
        const current = await readCa();
        await c.core.replaceNamespacedSecret({
          name: CA_SECRET,
          namespace: OPERATOR_NAMESPACE,
          body: { ...current, data: stored.data },
        });
        startManager();
        await waitManagerReady();
        const original = new X509Certificate(pem(stored, 'ca.crt'));
        await waitFor(
          async () => {
            const res = await httpsRequest(`${webhookUrl()}/healthz`, { ca: trustedBefore }).catch(
              () => undefined,
            );
            const onDisk = new X509Certificate(readFileSync(join(operatorPaths.certDir, 'tls.crt')));
            return res?.peerFingerprint === onDisk.fingerprint256 && onDisk.verify(original.publicKey);
          },
          { what: 'the webhook serving a certificate of the original CA again', timeoutMs: 60_000 },
        );
        await waitCaBundle(c.kc);
      });
      const dying = await createCa('seccomp-profiles-operator-test-dying-ca', 100);
      await c.core.replaceNamespacedSecret({
        name: CA_SECRET,
        namespace: OPERATOR_NAMESPACE,
        body: {
          ...stored,
          data: {
            'ca.crt': b64(dying.certPem),
            'ca.key': b64(dying.keyPem),
            'bundle.crt': b64(trustedBefore + dying.certPem),
          },
        },
      });

      // Pods keep coming while the manager hands over: every one must be admitted and bound. The apiserver
      // keeps its connections to the webhook open, so each round also makes a new one, trusting only the
      // bundle published at that moment: what a new connection of the apiserver would meet.
      const outcomes: string[] = [];
      traffic = (async () => {
        for (let i = 0; admitting; i++) {
          const pod = {
            metadata: { name: `during-${i}` },
            spec: { containers: [{ name: 'n', image: 'nginx:1.19.1' }] },
          };
          const res = await createPod(c.kc, ns, pod, true);
          outcomes.push(
            res.status === 201 && profileOf(res.body) ? 'bound' : `${res.status} ${res.body.message}`,
          );
          const fresh = await httpsRequest(`${webhookUrl()}/healthz`, { ca: await publishedBundle() }).then(
            (r) => `healthz ${r.status}`,
            (err: Error) => `new connection: ${err.message}`,
          );
          if (fresh !== 'healthz 200') outcomes.push(fresh);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      startManager();
      await waitManagerReady();
      const replacement = await waitFor(
        async () => {
          const ca = pem(await readCa(), 'ca.crt');
          return ca !== '' && ca !== dying.certPem ? new X509Certificate(ca) : undefined;
        },
        { what: 'a new CA in the CA Secret', timeoutMs: 60_000 },
      );
      const served = await waitFor(
        async () => {
          const bundle = readFileSync(join(operatorPaths.certDir, 'ca.crt'), 'utf8');
          const res = await httpsRequest(`${webhookUrl()}/healthz`, { ca: bundle });
          const onDisk = new X509Certificate(readFileSync(join(operatorPaths.certDir, 'tls.crt')));
          return res.peerFingerprint === onDisk.fingerprint256 && onDisk.verify(replacement.publicKey)
            ? onDisk
            : undefined;
        },
        { what: 'the webhook to serve a certificate of the new CA', timeoutMs: 60_000 },
      );
      t.ok(served.verify(replacement.publicKey), 'the webhook serves a certificate of the new CA');
      const during = outcomes.length;
      await waitFor(() => outcomes.length >= during + 3, { what: 'admissions after the hand-over' });
      admitting = false;
      await traffic;

      const trusted = (
        (await publishedBundle()).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []
      ).map((cert) => new X509Certificate(cert).fingerprint256);
      t.ok(trusted.includes(replacement.fingerprint256), 'the apiserver trusts the new CA');
      t.ok(
        trusted.includes(new X509Certificate(dying.certPem).fingerprint256),
        'and still the one it replaces, until that expires',
      );
      t.ok(outcomes.length >= 5, `${outcomes.length} admissions during the hand-over`);
      t.same(
        outcomes.filter((o) => o !== 'bound'),
        [],
        'none failed or went unbound',
      );
    },
  );

  t.test('manager leader election: one leader, handed over on shutdown', async (t) => {
    // The dev manager holds the lease; two fresh candidates take its place for this test.
    await stopDaemon(managerDaemon);
    t.teardown(async () => {
      startManager();
      await waitManagerReady();
    });
    const candidate = (id: string) =>
      spawnRole(
        'manager',
        [
          `--kubeconfig=${operatorPaths.managerKubeconfig}`,
          `--operator-namespace=${OPERATOR_NAMESPACE}`,
          '--host=127.0.0.1',
          '--port=0',
          `--cert-dir=${t.testdir({})}/${id}`,
          '--cert-host=127.0.0.1',
          '--cert-host=localhost',
        ],
        { POD_NAME: id },
      );
    const a = candidate('candidate-a');
    t.teardown(() => a.stop('SIGKILL'));
    await a.line((l) => l['msg'] === 'became leader', 'a leads', 60_000);
    const b = candidate('candidate-b');
    t.teardown(() => b.stop('SIGKILL'));
    await b.line((l) => String(l['msg']).startsWith('lease held by another manager'), 'b stands by');
    t.notOk(
      b.lines.some((l) => l['msg'] === 'became leader'),
      'b waits while a leads',
    );
    const handoverStart = Date.now();
    t.equal(await a.stop('SIGTERM'), 0, 'a stops cleanly and releases the lease');
    await b.line((l) => l['msg'] === 'became leader', 'b takes over', 30_000);
    t.ok(
      Date.now() - handoverStart < 15_000,
      `handed over in ${Date.now() - handoverStart} ms, before the lease would expire`,
    );
    t.equal(await b.stop('SIGTERM'), 0);
  });

  t.test('webhook and manager ran under their ServiceAccounts without a forbidden call', async (t) => {
    for (const daemon of [webhookDaemon, managerDaemon]) {
      const log = readFileSync(logPath(daemon))
        .subarray(logStart[daemon] ?? 0)
        .toString();
      t.notMatch(log, /forbidden|"code":403/i, `${daemon}: no forbidden`);
    }
    const metrics = await get(`http://127.0.0.1:${operatorPorts.manager}/metrics`);
    t.notMatch(metrics.body, /manager_api_errors_total\{code="403"\}/);
    const kcAs = readFileSync(operatorPaths.managerKubeconfig, 'utf8');
    t.match(
      kcAs,
      /system:serviceaccount:security-profiles-operator:spo-manager/,
      'manager acts as spo-manager',
    );
  });
}
