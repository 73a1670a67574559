import fastJsonPatch, { type Operation } from 'fast-json-patch';
import pino from 'pino';
import t from 'tap';
import { createMetrics, webhookMetrics } from '../../../src/metrics/index.js';
import type { ProfileBinding, ProfileRecording } from '../../../src/profiles/types.js';
import { BINDING_PATH, buildApp, DEFAULT_BODY_LIMIT, RECORDING_PATH } from '../../../src/webhook/app.js';
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

function setup(t: { teardown(fn: () => unknown): void }, synced = true, log = pino({ level: 'silent' })) {
  const metrics = createMetrics({ defaults: false });
  const state = staticState({
    bindings: [binding],
    recordings: [recording],
    profiles: { 'my-namespace': ['profile-complain'] },
    synced,
  });
  const app = buildApp({
    state,
    log,
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

// Fastify's own default limit is 1 MiB, but the apiserver sends reviews of up to 3 MiB: a pod between the two
// must still be bound, or a large but legal pod would be refused (binding fails closed).
t.test('a large, legal pod gets through: a 2.5 MiB pod is bound like any other', async (t) => {
  const { app } = setup(t);
  const container = {
    name: 'nginx',
    image: 'nginx:1.19.1',
    env: Array.from({ length: 40 }, (_, i) => ({ name: `BLOB_${i}`, value: 'x'.repeat(64 * 1024) })),
  };
  const large = { ...pod, spec: { containers: [container] } };
  const payload = JSON.stringify(review(large));
  const MiB = 1024 * 1024;
  t.ok(
    payload.length > 2 * MiB && payload.length < 3 * MiB,
    `between Fastify's default and the apiserver's limit (${payload.length} bytes)`,
  );
  const res = await app.inject({
    method: 'POST',
    url: BINDING_PATH,
    headers: { 'content-type': 'application/json' },
    payload,
  });
  if (!t.equal(res.statusCode, 200)) return;
  const body = res.json() as ReviewResponse;
  t.equal(body.response.allowed, true);
  const patched = fastJsonPatch.applyPatch(structuredClone(large), patchOf(body)).newDocument;
  t.same(patched.spec.containers[0], {
    ...container,
    securityContext: {
      seccompProfile: { type: 'Localhost', localhostProfile: 'operator/my-namespace/profile-complain.json' },
    },
  });
});

t.test('a body at the limit is decided, one byte more is refused as too large', async (t) => {
  const { app, registry } = setup(t);
  const json = JSON.stringify(review(pod));
  // Trailing whitespace is legal JSON, so the body can be sized to the byte without changing the review.
  const sized = (bytes: number) => json.padEnd(bytes, ' ');
  const post = (payload: string) =>
    app.inject({
      method: 'POST',
      url: BINDING_PATH,
      headers: { 'content-type': 'application/json' },
      payload,
    });
  const atLimit = await post(sized(DEFAULT_BODY_LIMIT));
  t.equal(atLimit.statusCode, 200);
  t.match(atLimit.json(), { response: { allowed: true } });
  const over = await post(sized(DEFAULT_BODY_LIMIT + 1));
  t.equal(over.statusCode, 400);
  t.match(over.json(), {
    code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    message: new RegExp(`over the webhook's limit of ${DEFAULT_BODY_LIMIT} bytes`),
  });
  t.match(
    await registry.metrics(),
    /webhook_admission_requests_total\{webhook="binding",result="bad_request"\} 1/,
    'counted as a bad request',
  );
});

t.test('a patched pod is logged once, with the review and the reasons', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const { app } = setup(t, true, log);
  await app.inject({ method: 'POST', url: BINDING_PATH, payload: review(pod, { name: 'web' }) });
  const admitted = lines.filter((l) => l['msg'] === 'pod admitted');
  t.equal(admitted.length, 1);
  t.match(admitted[0], {
    webhook: 'binding',
    uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
    namespace: 'my-namespace',
    name: 'web',
    reasons: [
      'recording my-recording (bpf): nginx',
      /^container nginx: .* from ProfileBinding nginx-binding$/,
    ],
    warnings: [],
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

/** What the apiserver stored when both webhooks were called: recording first, then binding on its result. */
async function twoCalls(app: ReturnType<typeof setup>['app'], object: unknown) {
  const post = async (url: string, o: unknown) =>
    (await app.inject({ method: 'POST', url, payload: review(o) })).json() as ReviewResponse;
  const first = await post(RECORDING_PATH, object);
  const afterRecording = fastJsonPatch.applyPatch(structuredClone(object), patchOf(first)).newDocument;
  const second = await post(BINDING_PATH, afterRecording);
  return {
    pod: fastJsonPatch.applyPatch(structuredClone(afterRecording), patchOf(second)).newDocument,
    warnings: [...(first.response.warnings ?? []), ...(second.response.warnings ?? [])],
  };
}

function bothState(recordings: ProfileRecording[], bindings: ProfileBinding[] = [binding]) {
  const metrics = createMetrics({ defaults: false });
  const app = buildApp({
    state: staticState({
      bindings,
      recordings,
      profiles: { 'my-namespace': ['profile-complain', 'any'] },
    }),
    log: pino({ level: 'silent' }),
    metrics: webhookMetrics(metrics),
    registry: metrics.registry,
    operatorNamespace: 'security-profiles-operator',
  });
  return { app, registry: metrics.registry };
}

t.test('a pod both bound and recorded: one binding call answers as the two calls did', async (t) => {
  const { app } = setup(t);
  const once = (
    await app.inject({ method: 'POST', url: BINDING_PATH, payload: review(pod) })
  ).json() as ReviewResponse;
  const combined = fastJsonPatch.applyPatch(structuredClone(pod), patchOf(once)).newDocument;
  t.same(combined, {
    ...pod,
    metadata: {
      name: 'web',
      labels: { app: 'my-app', 'spo.x-k8s.io/recording-id': 'my-recording' },
      annotations: { 'io.containers.trace-bpf/nginx': 'my-recording' },
    },
    spec: {
      containers: [
        {
          name: 'nginx',
          image: 'nginx:1.19.1',
          securityContext: {
            seccompProfile: {
              type: 'Localhost',
              localhostProfile: 'operator/my-namespace/profile-complain.json',
            },
          },
        },
      ],
    },
  });
  t.same(combined, (await twoCalls(app, pod)).pod, 'the same pod as recording then binding');
  const again = (
    await app.inject({ method: 'POST', url: BINDING_PATH, payload: review(combined) })
  ).json() as ReviewResponse;
  t.same(again.response, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true }, 'idempotent');
});

t.test('logs recording and a binding in one call: the logged container keeps the log profile', async (t) => {
  const logs: ProfileRecording = {
    ...recording,
    metadata: { name: 'a-logs', namespace: 'my-namespace' },
    spec: { ...recording.spec, recorder: 'logs', containers: ['nginx'] },
  };
  const wildcard: ProfileBinding = {
    ...binding,
    metadata: { name: 'everything', namespace: 'my-namespace' },
    spec: { profileRef: { kind: 'SeccompProfile', name: 'any' }, image: '*' },
  };
  // a-logs and my-recording both select the pod: a warning, given once
  const { app } = bothState([logs, recording], [binding, wildcard]);
  t.teardown(() => app.close());
  const twoContainers = {
    ...pod,
    spec: {
      containers: [
        { name: 'nginx', image: 'nginx:1.19.1' },
        {
          name: 'side',
          image: 'busybox:1.36',
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        },
      ],
    },
  };
  const once = (
    await app.inject({ method: 'POST', url: BINDING_PATH, payload: review(twoContainers) })
  ).json() as ReviewResponse;
  const combined = fastJsonPatch.applyPatch(structuredClone(twoContainers), patchOf(once)).newDocument;
  const expected = await twoCalls(app, twoContainers);
  t.same(combined, expected.pod, 'the same pod as recording then binding');
  t.same(once.response.warnings, expected.warnings, 'the same warnings');
  t.same(
    combined.spec.containers.map((c) => c.securityContext?.seccompProfile),
    [
      { type: 'Localhost', localhostProfile: 'operator/security-profiles-operator/log-enricher-trace.json' },
      { type: 'Localhost', localhostProfile: 'operator/my-namespace/any.json' },
    ],
  );
  t.match(once.response.warnings, [/only a-logs records it/, /side: seccompProfile RuntimeDefault replaced/]);
  const again = (
    await app.inject({ method: 'POST', url: BINDING_PATH, payload: review(combined) })
  ).json() as ReviewResponse;
  t.equal(again.response.patch, undefined, 'a second pass changes nothing');
  t.equal(again.response.warnings, undefined, 'and does not repeat the warnings');
});

t.test('a recording decision that fails still binds the pod, with a warning', async (t) => {
  const broken = { ...recording, spec: undefined } as unknown as ProfileRecording;
  const { app, registry } = bothState([broken]);
  t.teardown(() => app.close());
  const body = (
    await app.inject({ method: 'POST', url: BINDING_PATH, payload: review(pod) })
  ).json() as ReviewResponse;
  t.equal(body.response.allowed, true);
  t.same(
    patchOf(body).map((op) => op.path),
    ['/spec/containers/0/securityContext'],
  );
  t.match(body.response.warnings, [/recording webhook internal error; pod admitted unrecorded/]);
  t.match(
    await registry.metrics(),
    /webhook_admission_requests_total\{webhook="binding",result="patched"\} 1/,
  );
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
  t.same(
    patchOf(after).map((op) => op.path),
    [
      '/metadata/labels/spo.x-k8s.io~1recording-id',
      '/metadata/annotations',
      '/spec/containers/0/securityContext',
    ],
    'a good review afterwards is still decided (recorded and bound)',
  );
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
