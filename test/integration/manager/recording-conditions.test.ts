// The recording webhook's matchConditions against the real apiserver: the manager renders them from the
// ProfileRecordings, the apiserver evaluates them, and a pod no recording selects is bound but never sent to
// the recording webhook, while a pod a recording selects is recorded. Runs the local operator (webhook and
// manager processes); the manager is restarted first so it runs the sources under test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import t from 'tap';
import { RECORDING_CONDITION_NAME } from '../../../src/manager/recording-conditions.js';
import {
  BINDING_WEBHOOK_NAME,
  RECORDING_WEBHOOK_NAME,
  WEBHOOK_CONFIGURATION_NAME,
} from '../../../src/webhook/configuration.js';
import {
  ensureOperator,
  managerDaemon,
  operatorPaths,
  startManager,
  waitManagerReady,
  webhookUrl,
} from '../../env/operator.js';
import { stopDaemon } from '../../env/processes.js';
import { createNamespace, deleteNamespace, requireCluster, waitFor } from '../../helpers/cluster.js';
import { httpsRequest } from '../webhook/helpers.js';
import { apiRequest, createPod, type PodLike } from '../webhook/kube.js';

const GROUP = 'security-profiles-operator.x-k8s.io';

const cluster = await requireCluster(t);
if (cluster !== undefined) {
  const c = cluster;
  await ensureOperator(c.kc);
  await stopDaemon(managerDaemon);
  startManager();
  await waitManagerReady();

  const custom = c.kc.makeApiClient(CustomObjectsApi);
  const admission = c.kc.makeApiClient(AdmissionregistrationV1Api);
  const create = (namespace: string, plural: string, version: string, body: Record<string, unknown>) =>
    custom.createNamespacedCustomObject({ group: GROUP, version, namespace, plural, body });
  const hook = async (name: string) =>
    (await admission.readMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME })).webhooks?.find(
      (w) => w.name === name,
    );
  const condition = async () =>
    (await hook(RECORDING_WEBHOOK_NAME))?.matchConditions?.find((m) => m.name === RECORDING_CONDITION_NAME)
      ?.expression;
  const recordingCalls = async () => {
    const res = await httpsRequest(`${webhookUrl()}/metrics`, {
      ca: readFileSync(join(operatorPaths.certDir, 'ca.crt'), 'utf8'),
    });
    return [
      ...res.body.matchAll(/^webhook_admission_requests_total\{[^}]*webhook="recording"[^}]*\} (\d+)/gm),
    ]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
  };
  /** The apiserver's own counters for the recording webhook's matchConditions. */
  const conditionMetrics = async () => {
    const text = String((await apiRequest<string>(c.kc, 'GET', '/metrics')).body);
    const sum = (metric: string) =>
      [
        ...text.matchAll(
          new RegExp(`^${metric}\\{[^}]*name="${RECORDING_WEBHOOK_NAME}"[^}]*\\} (\\d+)`, 'gm'),
        ),
      ]
        .map((m) => Number(m[1]))
        .reduce((a, b) => a + b, 0);
    return {
      errors: sum('apiserver_admission_match_condition_evaluation_errors_total'),
      exclusions: sum('apiserver_admission_match_condition_exclusions_total'),
    };
  };
  const recordingOf = (p: PodLike) => p.metadata?.labels?.['spo.x-k8s.io/recording-id'];

  // No bindings here: in a namespace that binds too, the binding webhook records and this one is never called
  // (test/integration/webhook/cluster.test.ts).
  t.test('only pods a recording selects reach the recording webhook', async (t) => {
    const ns = await createNamespace(c, 'cond');
    t.teardown(() => deleteNamespace(c, ns));
    await create(ns, 'profilerecordings', 'v1alpha1', {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ProfileRecording',
      metadata: { name: 'r1', namespace: ns },
      spec: {
        kind: 'SeccompProfile',
        recorder: 'bpf',
        podSelector: {
          matchLabels: { app: 'rec' },
          matchExpressions: [
            { key: 'tier', operator: 'In', values: ['a', 'b'] },
            { key: 'stage', operator: 'NotIn', values: ['dev'] },
            { key: 'skip', operator: 'DoesNotExist' },
          ],
        },
      },
    });
    // Label values are free strings in the CRD: this one would turn the condition into `|| true ||` if the
    // manager did not escape it, and every pod would then reach the webhook.
    await create(ns, 'profilerecordings', 'v1alpha1', {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ProfileRecording',
      metadata: { name: 'r2', namespace: ns },
      spec: {
        kind: 'SeccompProfile',
        recorder: 'bpf',
        podSelector: { matchLabels: { evil: 'x" || true || "' } },
      },
    });
    const pod = (labels?: Record<string, string>): PodLike => ({
      metadata: labels ? { labels } : {},
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.19.1' }] },
    });
    // Ready when the namespace is opted in, and the manager has put the recording into the condition: a
    // selected pod then comes back recorded.
    await waitFor(
      async () => {
        const res = await createPod(c.kc, ns, pod({ app: 'rec', tier: 'a' }), true);
        return recordingOf(res.body) === 'r1' && (await condition())?.includes(`"${ns}"`) === true;
      },
      { what: 'the recording active in the namespace and in the condition', timeoutMs: 60_000 },
    );
    const labels = (await c.core.readNamespace({ name: ns })).metadata?.labels ?? {};
    t.ok('spo.x-k8s.io/enable-recording' in labels, 'opted in for recording');

    const cases: Array<[string, Record<string, string> | undefined, boolean]> = [
      ['selected: app=rec, tier=a', { app: 'rec', tier: 'a' }, true],
      ['selected: tier=b, stage=prod (NotIn dev)', { app: 'rec', tier: 'b', stage: 'prod' }, true],
      ['not selected: other app', { app: 'web', tier: 'a' }, false],
      ['not selected: tier not In', { app: 'rec', tier: 'c' }, false],
      ['not selected: stage=dev (NotIn)', { app: 'rec', tier: 'a', stage: 'dev' }, false],
      ['not selected: skip set (DoesNotExist)', { app: 'rec', tier: 'a', skip: '' }, false],
      ['not selected: no labels at all', undefined, false],
    ];
    for (const [name, podLabels, selected] of cases) {
      const before = await recordingCalls();
      const conditionBefore = await conditionMetrics();
      const res = await createPod(c.kc, ns, pod(podLabels), true);
      const calls = (await recordingCalls()) - before;
      const conditionAfter = await conditionMetrics();
      // An expression that fails to evaluate also skips an Ignore webhook: only a counted exclusion is a false.
      t.equal(
        conditionAfter.errors,
        conditionBefore.errors,
        `${name}: the condition evaluated without error`,
      );
      const excluded = conditionAfter.exclusions - conditionBefore.exclusions;
      t.ok(
        selected ? excluded === 0 : excluded > 0,
        `${name}: ${selected ? 'not ' : ''}excluded by the condition`,
      );
      t.equal(res.status, 201, `${name}: admitted`);
      t.equal(
        recordingOf(res.body),
        selected ? 'r1' : undefined,
        `${name}: ${selected ? '' : 'not '}recorded`,
      );
      t.equal(calls, selected ? 1 : 0, `${name}: recording webhook called ${selected ? 'once' : 'never'}`);
    }

    const recording = await hook(RECORDING_WEBHOOK_NAME);
    const binding = await hook(BINDING_WEBHOOK_NAME);
    t.ok(recording?.clientConfig.caBundle, 'recording webhook keeps its caBundle');
    t.ok(binding?.clientConfig.caBundle, 'binding webhook keeps its caBundle');
    t.equal(binding?.matchConditions, undefined, 'the binding webhook has no matchConditions');
    t.equal(binding?.failurePolicy, 'Fail', 'the binding webhook still fails closed');

    await custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: 'v1alpha1',
      namespace: ns,
      plural: 'profilerecordings',
      name: 'r1',
    });
    await waitFor(async () => !(await condition())?.includes('"tier"'), {
      what: 'the deleted recording to leave the condition',
      timeoutMs: 30_000,
    });
    const after = await createPod(c.kc, ns, pod({ app: 'rec', tier: 'a' }), true);
    t.equal(recordingOf(after.body), undefined, 'recording deleted: the pod is no longer recorded');
  });
}
