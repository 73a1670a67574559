import fastJsonPatch, { type Operation } from 'fast-json-patch';
import t from 'tap';
import {
  MAX_CONDITION_CHARS,
  planConditions,
  RECORDING_CONDITION_NAME,
  type RecordingView,
  recordingConditions,
} from '../../../src/manager/recording-conditions.js';
import { webhookConfiguration } from '../../../src/webhook/configuration.js';

const L = 'object.metadata.labels';
const rec = (
  namespace: string,
  name: string,
  podSelector: RecordingView['podSelector'],
  deleting = false,
) => ({
  namespace,
  name,
  podSelector,
  deleting,
});
const expression = (recordings: RecordingView[]) => {
  const out = recordingConditions(recordings);
  if (!('conditions' in out)) throw new Error(`fell back: ${out.always}`);
  const [only, ...more] = out.conditions;
  if (only?.name !== RECORDING_CONDITION_NAME || more.length > 0) throw new Error('one named condition');
  return only.expression;
};

t.test('no recordings, or only terminating ones: a condition that is false', async (t) => {
  t.equal(expression([]), 'false');
  t.equal(expression([rec('a', 'r', {}, true)]), 'false');
});

t.test('a recording selects by namespace and labels; a pod without labels is not selected', async (t) => {
  t.equal(
    expression([rec('team-a', 'r1', { matchLabels: { app: 'web' } })]),
    `has(${L}) && ((request.namespace == "team-a" && (("app" in ${L} && ${L}["app"] == "web"))))`,
  );
});

t.test('an empty selector: every pod of the namespace, labelled or not', async (t) => {
  t.equal(expression([rec('team-a', 'all', {})]), 'request.namespace == "team-a"');
  t.equal(
    expression([rec('b', 'all', {}), rec('a', 'all', {}), rec('a', 'web', { matchLabels: { app: 'web' } })]),
    'request.namespace in ["a", "b"]',
    'namespaces sorted; a narrower recording beside an empty one adds nothing',
  );
});

t.test('selectors that match pods without labels get a has() guard with the namespaces', async (t) => {
  t.equal(
    expression([
      rec('a', 'not-dev', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }),
      rec('b', 'web', { matchLabels: { app: 'web' } }),
    ]),
    `has(${L}) ? ((request.namespace == "a" && (!("env" in ${L} && ${L}["env"] == "dev"))) || ` +
      `(request.namespace == "b" && (("app" in ${L} && ${L}["app"] == "web")))) : (request.namespace == "a")`,
  );
});

t.test('several recordings in one namespace: any of them; duplicates once', async (t) => {
  t.equal(
    expression([
      rec('a', 'r2', { matchExpressions: [{ key: 'debug', operator: 'Exists' }] }),
      rec('a', 'r1', { matchLabels: { app: 'web' } }),
      rec('a', 'r3', { matchLabels: { app: 'web' } }),
      rec('a', 'broken', { matchExpressions: [{ key: 'x', operator: 'In', values: [] }] }),
    ]),
    `has(${L}) && ((request.namespace == "a" && ((("app" in ${L} && ${L}["app"] == "web")) || ("debug" in ${L}))))`,
  );
});

t.test('namespace names and selectors are escaped', async (t) => {
  const e = expression([rec('a', 'r', { matchLabels: { k: 'v" || true || "' } })]);
  t.match(e, '== "v\\" || true || \\""');
  t.notMatch(e, / \|\| true \|\| "\)/, 'the injected text stays inside the literal');
});

t.test('past the size limit: no conditions, with a reason', async (t) => {
  const many = Array.from({ length: 400 }, (_, i) =>
    rec(`namespace-${i}`, 'r', { matchLabels: { 'app.kubernetes.io/name': `service-${i}` } }),
  );
  const out = recordingConditions(many);
  t.ok('always' in out, 'falls back to always calling');
  if ('always' in out) t.match(out.always, `limit ${MAX_CONDITION_CHARS}`);
  const fewer = recordingConditions(many.slice(0, 50));
  t.ok('conditions' in fewer, '50 recordings fit');
});

t.test('planConditions writes only the recording webhook matchConditions', async (t) => {
  const config = webhookConfiguration({ url: 'https://127.0.0.1:1' }, 'spo', 'Q0E=');
  const want = recordingConditions([rec('a', 'r', { matchLabels: { app: 'web' } })]);
  const ops = planConditions(config.webhooks, 'recording.spo.io', want);
  t.equal(ops.length, 1);
  t.equal(ops[0]?.path, '/webhooks/0/matchConditions');
  const next = fastJsonPatch.applyPatch(structuredClone(config), ops as Operation[], true, false).newDocument;
  t.same(next.webhooks[0]?.clientConfig, config.webhooks[0]?.clientConfig, 'caBundle kept');
  t.same(next.webhooks[1], config.webhooks[1], 'binding webhook untouched');
  t.same(
    { ...next.webhooks[0], matchConditions: undefined },
    { ...config.webhooks[0], matchConditions: undefined },
  );
  t.same(planConditions(next.webhooks, 'recording.spo.io', want), [], 'applied: nothing more to do');

  const always = planConditions(next.webhooks, 'recording.spo.io', { always: 'too big' });
  t.same(always, [{ op: 'remove', path: '/webhooks/0/matchConditions' }], 'fallback removes them');
  t.same(planConditions(config.webhooks, 'recording.spo.io', { always: 'x' }), [], 'none to remove');
  t.same(planConditions(config.webhooks, 'no-such.spo.io', want), [], 'unknown webhook: nothing');
});
