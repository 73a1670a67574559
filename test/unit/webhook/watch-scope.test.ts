import pino from 'pino';
import t from 'tap';
import { createMetrics, webhookMetrics } from '../../../src/metrics/index.js';
import type { ProfileBinding } from '../../../src/profiles/types.js';
import { BINDING_PATH, buildApp, RECORDING_PATH } from '../../../src/webhook/app.js';
import { staticState } from '../../../src/webhook/static-state.js';
import { outsideWatchedNamespace } from '../../../src/webhook/watch-scope.js';

const binding = (namespace: string): ProfileBinding => ({
  apiVersion: 'security-profiles-operator.x-k8s.io/v1alpha1',
  kind: 'ProfileBinding',
  metadata: { name: 'b', namespace },
  spec: { profileRef: { kind: 'SeccompProfile', name: 'p' }, image: 'nginx' },
});

const review = (namespace: string) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'u-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    operation: 'CREATE',
    namespace,
    object: { metadata: { name: 'web' }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
  },
});

t.test('outsideWatchedNamespace', async (t) => {
  t.equal(outsideWatchedNamespace('a', undefined), undefined, 'every namespace is ours without the mode');
  t.equal(outsideWatchedNamespace('team', 'team'), undefined);
  t.match(outsideWatchedNamespace('other', 'team'), /single-namespace mode for namespace "team".*"other"/);
});

t.test(
  'single-namespace mode: a review from another namespace is admitted unchanged with a warning',
  async (t) => {
    const metrics = createMetrics({ defaults: false });
    // The state holds a matching binding in both namespaces, so only the mode can explain an unpatched pod.
    const state = staticState({
      bindings: [binding('team'), binding('other')],
      profiles: { team: ['p'], other: ['p'] },
    });
    const app = buildApp({
      state,
      log: pino({ level: 'silent' }),
      metrics: webhookMetrics(metrics),
      registry: metrics.registry,
      operatorNamespace: 'team',
      watchNamespace: 'team',
    });
    t.teardown(() => app.close());
    for (const path of [BINDING_PATH, RECORDING_PATH]) {
      const other = (await app.inject({ method: 'POST', url: path, payload: review('other') })).json() as {
        response: { allowed: boolean; patch?: string; warnings?: string[] };
      };
      t.equal(other.response.allowed, true, `${path}: allowed`);
      t.equal(other.response.patch, undefined, `${path}: unchanged`);
      t.match(other.response.warnings, [/single-namespace mode for namespace "team"/]);
    }
    const own = (await app.inject({ method: 'POST', url: BINDING_PATH, payload: review('team') })).json() as {
      response: { patch?: string; warnings?: string[] };
    };
    t.ok(own.response.patch, 'the watched namespace is still mutated');
    t.equal(own.response.warnings, undefined);
    const counted = await metrics.registry.getSingleMetric('webhook_admission_requests_total')?.get();
    const skipped = (webhook: string) =>
      counted?.values.find((v) => v.labels['webhook'] === webhook && v.labels['result'] === 'skipped')?.value;
    t.equal(skipped('binding'), 1, 'counted as skipped');
    t.equal(skipped('recording'), 1);
  },
);
