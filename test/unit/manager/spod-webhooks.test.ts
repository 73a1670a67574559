import fastJsonPatch, { type Operation } from 'fast-json-patch';
import t from 'tap';
import { SYSTEM_NAMESPACES } from '../../../src/manager/opt-in.js';
import {
  planWebhookOptions,
  type WebhookOption,
  type WebhookView,
  withExclusions,
} from '../../../src/manager/spod-webhooks.js';
import { webhookConfiguration } from '../../../src/webhook/configuration.js';

const NS = 'security-profiles-operator';
const excluded = [...SYSTEM_NAMESPACES, NS];
const fresh = () => webhookConfiguration({ url: 'https://127.0.0.1:1' }, NS, 'Q0E=');
const defaults: WebhookView[] = fresh().webhooks;
const byName = (hooks: readonly WebhookView[], name: string) => hooks.find((h) => h.name === name);

/** Plans against `config`, applies the patch, and returns the result (as the apiserver would store it). */
function apply(config: ReturnType<typeof fresh>, options: WebhookOption[]) {
  const plan = planWebhookOptions(config.webhooks, defaults, options, excluded);
  const next = fastJsonPatch.applyPatch(
    structuredClone(config),
    plan.ops as Operation[],
    true,
    false,
  ).newDocument;
  return { plan, next };
}

const team = { matchLabels: { team: 'a' } };

t.test('no options on a fresh configuration: nothing to patch', async (t) => {
  t.same(planWebhookOptions(defaults, defaults, [], excluded), { ops: [], changes: [] });
});

t.test(
  'the seed example: binding Ignore with its own selector; recording no longer defers to it',
  async (t) => {
    const { plan, next } = apply(fresh(), [
      { name: 'binding.spo.io', failurePolicy: 'Ignore', namespaceSelector: team },
    ]);
    t.equal(plan.ops.length, 3);
    const binding = byName(next.webhooks, 'binding.spo.io');
    t.equal(binding?.failurePolicy, 'Ignore');
    t.same(binding?.namespaceSelector, {
      matchLabels: { team: 'a' },
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excluded }],
    });
    // The binding webhook may not be called where both opt-in labels are any more, so recording is.
    const recording = byName(next.webhooks, 'recording.spo.io');
    t.same(recording?.namespaceSelector?.matchExpressions, [
      { key: 'spo.x-k8s.io/enable-recording', operator: 'Exists' },
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excluded },
    ]);
    t.equal(recording?.failurePolicy, 'Ignore');
    t.match(plan.changes, [
      /recording\.spo\.io namespaceSelector/,
      /binding\.spo\.io failurePolicy Fail -> Ignore/,
      /binding\.spo\.io namespaceSelector/,
    ]);
    for (const [i, w] of next.webhooks.entries()) {
      t.equal(w.clientConfig.caBundle, 'Q0E=', `caBundle of webhook ${i} untouched`);
    }
    t.same(
      planWebhookOptions(
        next.webhooks,
        defaults,
        [{ name: 'binding.spo.io', failurePolicy: 'Ignore', namespaceSelector: team }],
        excluded,
      ).ops,
      [],
      'idempotent',
    );
  },
);

t.test('removing the option restores the defaults', async (t) => {
  const changed = apply(fresh(), [
    { name: 'binding.spo.io', failurePolicy: 'Ignore', namespaceSelector: team },
  ]).next;
  const { plan, next } = apply(changed, []);
  t.equal(plan.ops.length, 3);
  t.same(next.webhooks, fresh().webhooks);
});

t.test('only failurePolicy: the opt-in selector stays', async (t) => {
  const { plan, next } = apply(fresh(), [{ name: 'recording.spo.io', failurePolicy: 'Fail' }]);
  t.same(
    plan.ops.map((o) => o.path.split('/').pop()),
    ['failurePolicy'],
  );
  t.equal(byName(next.webhooks, 'recording.spo.io')?.failurePolicy, 'Fail');
  t.same(
    byName(next.webhooks, 'recording.spo.io')?.namespaceSelector,
    byName(defaults, 'recording.spo.io')?.namespaceSelector,
  );
});

t.test('patch paths follow the names, not a fixed order', async (t) => {
  const config = fresh();
  config.webhooks.reverse();
  const { next } = apply(config, [{ name: 'binding.spo.io', failurePolicy: 'Ignore' }]);
  t.equal(byName(next.webhooks, 'binding.spo.io')?.failurePolicy, 'Ignore');
  t.equal(byName(next.webhooks, 'recording.spo.io')?.failurePolicy, 'Ignore', 'recording keeps its default');
});

t.test('a webhook the operator does not know is left alone', async (t) => {
  const current = [...defaults, { name: 'other.example.com', failurePolicy: 'Fail' }];
  t.same(planWebhookOptions(current, defaults, [], excluded).ops, []);
});

t.test('system namespaces stay excluded, without doubling an exclusion the user wrote', async (t) => {
  const own = {
    matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...excluded, 'x'] }],
  };
  t.same(withExclusions(own, excluded), own);
  t.same(withExclusions({}, excluded), {
    matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excluded }],
  });
});

t.test('by default recording leaves namespaces that bind to the binding webhook', async (t) => {
  t.match(byName(defaults, 'recording.spo.io')?.namespaceSelector?.matchExpressions, [
    { key: 'spo.x-k8s.io/enable-recording', operator: 'Exists' },
    { key: 'spo.x-k8s.io/enable-binding', operator: 'DoesNotExist' },
    { key: 'kubernetes.io/metadata.name', operator: 'NotIn' },
  ]);
  const onlyPolicy = apply(fresh(), [{ name: 'binding.spo.io', failurePolicy: 'Ignore' }]).next;
  t.same(
    byName(onlyPolicy.webhooks, 'recording.spo.io'),
    byName(defaults, 'recording.spo.io'),
    'a binding failurePolicy alone keeps the deferral',
  );
  const ownRecording = apply(fresh(), [{ name: 'recording.spo.io', namespaceSelector: team }]).next;
  t.same(
    byName(ownRecording.webhooks, 'recording.spo.io')?.namespaceSelector,
    withExclusions(team, excluded),
    "a recording selector of the user's replaces the default whole (both may then be called)",
  );
});
