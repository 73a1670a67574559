import fastJsonPatch, { type Operation } from 'fast-json-patch';
import pino from 'pino';
import t from 'tap';
import { createMetrics, webhookMetrics } from '../../../src/metrics/index.js';
import type { ProfileBinding, ProfileRecording } from '../../../src/profiles/types.js';
import { BINDING_PATH, buildApp, RECORDING_PATH } from '../../../src/webhook/app.js';
import { staticState } from '../../../src/webhook/static-state.js';
import { badReviews } from './bad-reviews.js';

const binding: ProfileBinding = {
  apiVersion: 'security-profiles-operator.x-k8s.io/v1alpha1',
  kind: 'ProfileBinding',
  metadata: { name: 'nginx-binding', namespace: 'my-namespace' },
  spec: { profileRef: { kind: 'SeccompProfile', name: 'profile-complain' }, image: 'nginx:1.19.1' },
};
const recording: ProfileRecording = {
  apiVersion: 'security-profiles-operator.x-k8s.io/v1alpha1',
  kind: 'ProfileRecording',
  metadata: { name: 'my-recording', namespace: 'my-namespace' },
  spec: { kind: 'SeccompProfile', recorder: 'bpf', podSelector: { matchLabels: { app: 'my-app' } } },
};

function setup(t: { teardown(fn: () => unknown): void }, synced = true) {
  const metrics = createMetrics({ defaults: false });
  const state = staticState({
    bindings: [binding],
    recordings: [recording],
    profiles: { 'my-namespace': ['profile-complain'] },
    synced,
  });
  const app = buildApp({
    state,
    log: pino({ level: 'silent' }),
    metrics: webhookMetrics(metrics),
    registry: metrics.registry,
    operatorNamespace: 'security-profiles-operator',
  });
  t.teardown(() => app.close());
  return { app, state, registry: metrics.registry };
}

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', labels: { app: 'my-app' } },
  spec: { containers: [{ name: 'nginx', image: 'nginx:1.19.1' }] },
};

function review(object: unknown, overrides: object = {}) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      namespace: 'my-namespace',
      object,
      ...overrides,
    },
  };
}

interface ReviewResponse {
  apiVersion: string;
  response: {
    uid: string;
    allowed: boolean;
    patch?: string;
    patchType?: string;
    warnings?: string[];
    status?: { code?: number; message: string };
  };
}

const patchOf = (r: ReviewResponse): Operation[] =>
  r.response.patch ? (JSON.parse(Buffer.from(r.response.patch, 'base64').toString()) as Operation[]) : [];

t.test('binding webhook patches the seed pod with the container-level profile', async (t) => {
  const { app } = setup(t);
  const res = await app.inject({ method: 'POST', url: BINDING_PATH, payload: review(pod) });
  t.equal(res.statusCode, 200);
  const body = res.json() as ReviewResponse;
  t.equal(body.apiVersion, 'admission.k8s.io/v1');
  t.match(body.response, {
    uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
    allowed: true,
    patchType: 'JSONPatch',
  });
  const patched = fastJsonPatch.applyPatch(structuredClone(pod), patchOf(body)).newDocument;
  t.same(patched.spec.containers[0], {
    name: 'nginx',
    image: 'nginx:1.19.1',
    securityContext: {
      seccompProfile: { type: 'Localhost', localhostProfile: 'operator/my-namespace/profile-complain.json' },
    },
  });
});

t.test('recording webhook labels and annotates; v1beta1 reviews are answered in kind', async (t) => {
  const { app } = setup(t);
  const res = await app.inject({
    method: 'POST',
    url: RECORDING_PATH,
    payload: { ...review(pod), apiVersion: 'admission.k8s.io/v1beta1' },
  });
  const body = res.json() as ReviewResponse;
  t.equal(body.apiVersion, 'admission.k8s.io/v1beta1');
  const patched = fastJsonPatch.applyPatch(structuredClone(pod), patchOf(body)).newDocument as typeof pod & {
    metadata: { annotations: Record<string, string> };
  };
  t.equal((patched.metadata.labels as Record<string, string>)['spo.x-k8s.io/recording-id'], 'my-recording');
  t.same(patched.metadata.annotations, { 'io.containers.trace-bpf/nginx': 'my-recording' });
});

t.test('a namespace without bindings gets an allowed response without patch', async (t) => {
  const { app } = setup(t);
  const res = await app.inject({
    method: 'POST',
    url: BINDING_PATH,
    payload: review(pod, { namespace: 'other' }),
  });
  const body = res.json() as ReviewResponse;
  t.same(body.response, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
});

t.test('a missing profile admits unchanged with a warning', async (t) => {
  const metrics = createMetrics({ defaults: false });
  const app = buildApp({
    state: staticState({ bindings: [binding] }),
    log: pino({ level: 'silent' }),
    metrics: webhookMetrics(metrics),
    registry: metrics.registry,
    operatorNamespace: 'security-profiles-operator',
  });
  t.teardown(() => app.close());
  const body = (
    await app.inject({ method: 'POST', url: BINDING_PATH, payload: review(pod) })
  ).json() as ReviewResponse;
  t.equal(body.response.allowed, true);
  t.equal(body.response.patch, undefined);
  t.match(body.response.warnings, [/profile-complain not found/]);
});

t.test(
  'before the caches sync: binding refuses (as Fail would), recording admits (as Ignore would)',
  async (t) => {
    const { app, state } = setup(t, false);
    t.equal((await app.inject({ url: '/readyz' })).statusCode, 503);
    t.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    const b = (
      await app.inject({ method: 'POST', url: BINDING_PATH, payload: review(pod) })
    ).json() as ReviewResponse;
    t.match(b.response, { allowed: false, status: { code: 500, message: /not synced/ } });
    const r = (
      await app.inject({ method: 'POST', url: RECORDING_PATH, payload: review(pod) })
    ).json() as ReviewResponse;
    t.match(r.response, { allowed: true, warnings: [/not synced/] });
    t.equal(r.response.patch, undefined);
    state.setSynced(true);
    t.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
  },
);

t.test('bad reviews get 400 or an allowed answer, and the app keeps answering', async (t) => {
  const { app, registry } = setup(t);
  for (const bad of badReviews()) {
    for (const path of [BINDING_PATH, RECORDING_PATH]) {
      const res = await app.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': bad.contentType ?? 'application/json' },
        payload: bad.body,
      });
      if (bad.expect === 400) {
        t.equal(res.statusCode, 400, `${bad.name} ${path}: 400`);
        t.ok((res.json() as { message?: string }).message, `${bad.name}: says why`);
      } else {
        t.equal(res.statusCode, 200, `${bad.name} ${path}: 200`);
        const body = res.json() as ReviewResponse;
        t.equal(body.response.allowed, true, `${bad.name}: allowed`);
        t.doesNotThrow(() => patchOf(body), `${bad.name}: any patch is valid JSON`);
      }
    }
  }
  t.equal(({} as { polluted?: unknown }).polluted, undefined, 'no prototype pollution');
  const after = (
    await app.inject({ method: 'POST', url: BINDING_PATH, payload: review(pod) })
  ).json() as ReviewResponse;
  t.equal(patchOf(after).length, 1, 'a good review afterwards is still decided');
  const text = await registry.metrics();
  t.match(text, /webhook_admission_requests_total\{webhook="binding",result="bad_request"\} \d+/);
  t.match(text, /webhook_admission_requests_total\{webhook="binding",result="patched"\} \d+/);
  t.match(
    text,
    /webhook_admission_duration_seconds_bucket\{le="[^"]+",webhook="recording",result="skipped"\}/,
  );
});

t.test('the metrics route serves the registry', async (t) => {
  const { app } = setup(t);
  await app.inject({ method: 'POST', url: BINDING_PATH, payload: review(pod) });
  const res = await app.inject({ url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /text\/plain/);
  t.match(res.body, /webhook_admission_requests_total\{webhook="binding",result="patched"\} 1/);
});
