// Admission requests no apiserver would send, and what each must get: the webhook answers all of them
// and stays up. Shared by the in-process test and the one against the real HTTPS process.

export interface BadReview {
  readonly name: string;
  readonly body: Buffer;
  readonly contentType?: string;
  /** 400, or 200 with allowed: true and nothing patched. */
  readonly expect: 400 | 'allowed';
}

const review = (request: unknown, extra: object = {}) =>
  Buffer.from(
    JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request, ...extra }),
  );

const podRequest = (object: unknown, extra: object = {}) => ({
  uid: 'bad-1',
  kind: { group: '', version: 'v1', kind: 'Pod' },
  resource: { group: '', version: 'v1', resource: 'pods' },
  operation: 'CREATE',
  namespace: 'my-namespace',
  object,
  ...extra,
});

function hugePod(bytes: number): Buffer {
  const filler = 'x'.repeat(1024);
  const annotations: Record<string, string> = {};
  for (let i = 0; i * 1024 < bytes; i++) annotations[`a${i}`] = filler;
  return review(
    podRequest({ metadata: { annotations }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }),
  );
}

export function badReviews(): BadReview[] {
  const valid = review(podRequest({ spec: { containers: [{ name: 'nginx', image: 'nginx:1.19.1' }] } }));
  return [
    { name: 'empty body', body: Buffer.alloc(0), expect: 400 },
    { name: 'truncated JSON', body: valid.subarray(0, valid.length - 7), expect: 400 },
    { name: 'not JSON', body: Buffer.from('<AdmissionReview/>'), expect: 400 },
    { name: 'JSON array', body: Buffer.from('[1,2,3]'), expect: 400 },
    { name: 'JSON null', body: Buffer.from('null'), expect: 400 },
    {
      name: 'not UTF-8',
      body: Buffer.concat([valid.subarray(0, 40), Buffer.from([0xff, 0xfe, 0xc3]), valid.subarray(40)]),
      expect: 400,
    },
    {
      name: 'wrong review kind',
      body: Buffer.from(
        JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'Pod', request: podRequest({}) }),
      ),
      expect: 400,
    },
    {
      name: 'unknown apiVersion',
      body: Buffer.from(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v2',
          kind: 'AdmissionReview',
          request: podRequest({}),
        }),
      ),
      expect: 400,
    },
    { name: 'no request', body: review(undefined), expect: 400 },
    { name: 'missing uid', body: review(podRequest({ spec: {} }, { uid: undefined })), expect: 400 },
    { name: 'uid not a string', body: review(podRequest({ spec: {} }, { uid: 42 })), expect: 400 },
    { name: 'text/plain content type', body: valid, contentType: 'text/plain', expect: 400 },
    { name: '5 MB pod', body: hugePod(5 * 1024 * 1024), expect: 400 },
    {
      name: 'not a pod: a Secret',
      body: review(podRequest({ data: {} }, { kind: { group: '', version: 'v1', kind: 'Secret' } })),
      expect: 'allowed',
    },
    {
      name: 'not a pod: a Deployment',
      body: review(podRequest({ spec: {} }, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } })),
      expect: 'allowed',
    },
    { name: 'pod object is a string', body: review(podRequest('nginx')), expect: 'allowed' },
    { name: 'pod without object', body: review(podRequest(undefined)), expect: 'allowed' },
    {
      name: 'pod UPDATE',
      body: review(podRequest({ spec: {} }, { operation: 'UPDATE' })),
      expect: 'allowed',
    },
    {
      name: 'containers is an object',
      body: review(podRequest({ spec: { containers: { a: 1 } } })),
      expect: 'allowed',
    },
    {
      name: 'image is a number',
      body: review(podRequest({ spec: { containers: [{ name: 'c', image: 7 }] } })),
      expect: 'allowed',
    },
    {
      name: 'labels is a list',
      body: review(podRequest({ metadata: { labels: ['a'] }, spec: { containers: [] } })),
      expect: 'allowed',
    },
    // Built as text: JSON.stringify itself overflows the stack on this, JSON.parse does not.
    {
      name: 'deeply nested object',
      body: Buffer.from(
        `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"deep","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"my-namespace","object":{"metadata":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)},"spec":{"containers":[]}}}}`,
      ),
      expect: 'allowed',
    },
    {
      name: '__proto__ keys',
      body: Buffer.from(
        `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","__proto__":{"polluted":1},"request":{"uid":"p","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"my-namespace","object":{"metadata":{"labels":{"__proto__":{"x":"y"}}},"spec":{"containers":[{"name":"c","image":"nginx:1.19.1","securityContext":{"__proto__":{"seccompProfile":1}}}]}}}}`,
      ),
      expect: 'allowed',
    },
  ];
}
