import t from 'tap';
import { SECCOMP_PROFILES } from '../../../src/k8s/resources.js';
import { ApiError, describeError, isGone, statusOf } from '../../../src/k8s/rest/api-error.js';
import { apiPath, withQuery } from '../../../src/k8s/rest/paths.js';
import { PODS, TOKEN_REVIEWS } from '../../../src/k8s/rest/refs.js';

t.test('paths', async (t) => {
  const cases = [
    { in: PODS, out: '/api/v1/pods' },
    { in: { ...PODS, namespace: 'ns' }, out: '/api/v1/namespaces/ns/pods' },
    { in: { ...PODS, namespace: 'ns', name: 'p-1.a' }, out: '/api/v1/namespaces/ns/pods/p-1.a' },
    {
      in: { ...SECCOMP_PROFILES, namespace: 'ns', name: 'x', subresource: 'status' as const },
      out: '/apis/security-profiles-operator.x-k8s.io/v1beta1/namespaces/ns/seccompprofiles/x/status',
    },
    { in: TOKEN_REVIEWS, out: '/apis/authentication.k8s.io/v1/tokenreviews' },
    // Names are not all DNS names (RBAC roles hold colons): they are escaped, not refused.
    { in: { ...PODS, name: 'system:node/x?y#z %' }, out: '/api/v1/pods/system%3Anode%2Fx%3Fy%23z%20%25' },
  ];
  for (const c of cases) t.equal(apiPath(c.in), c.out, c.out);
});

t.test('what cannot be part of a path is refused', async (t) => {
  const cases: Array<[string, Parameters<typeof apiPath>[0], RegExp]> = [
    ['group with a slash', { group: 'a/b', version: 'v1', plural: 'x' }, /invalid API group "a\/b"/],
    ['upper-case group', { group: 'Apps', version: 'v1', plural: 'x' }, /invalid API group/],
    ['version', { group: '', version: 'v1/../..', plural: 'x' }, /invalid API version/],
    ['version without v', { group: '', version: '1', plural: 'x' }, /invalid API version/],
    ['plural', { group: '', version: 'v1', plural: '../secrets' }, /invalid resource/],
    ['namespace', { ...PODS, namespace: '../kube-system' }, /invalid namespace/],
    ['empty namespace', { ...PODS, namespace: '' }, /invalid namespace/],
    ['dot-dot name', { ...PODS, namespace: 'ns', name: '..' }, /invalid name "\.\."/],
    ['dot name', { ...PODS, name: '.' }, /invalid name/],
    ['empty name', { ...PODS, name: '' }, /invalid name/],
    ['subresource without name', { ...PODS, subresource: 'status' }, /needs an object name/],
  ];
  for (const [name, path, message] of cases)
    t.throws(() => apiPath(path), { name: 'TypeError', message }, name);
  t.ok(apiPath({ group: '', version: 'v2beta10', plural: 'x' }), 'beta versions are fine');
});

t.test('query strings', async (t) => {
  t.equal(withQuery('/api/v1/pods', {}), '/api/v1/pods');
  t.equal(
    withQuery('/api/v1/pods', {
      labelSelector: 'a=b,c!=d,e in (f,g)',
      fieldSelector: 'spec.nodeName=n&x',
      limit: 500,
      watch: true,
      continue: undefined,
    }),
    '/api/v1/pods?labelSelector=a%3Db%2Cc%21%3Dd%2Ce+in+%28f%2Cg%29&fieldSelector=spec.nodeName%3Dn%26x&limit=500&watch=true',
  );
});

t.test('errors read as client-node errors do', async (t) => {
  const body = JSON.stringify({
    kind: 'Status',
    message: 'pods "x" not found',
    reason: 'NotFound',
    code: 404,
  });
  const err = new ApiError('GET', '/api/v1/namespaces/n/pods/x', 404, body);
  t.equal(err.message, 'GET /api/v1/namespaces/n/pods/x: 404 pods "x" not found');
  t.equal(err.reason, 'NotFound');
  t.equal(statusOf(err), 404);
  t.same(describeError(err), { code: 404, reason: 'pods "x" not found' });
  const plain = new ApiError('GET', '/x', 502, 'Bad Gateway');
  t.same(
    [plain.reason, plain.message, describeError(plain)],
    [undefined, 'GET /x: 502 Bad Gateway', { code: 502, reason: 'Bad Gateway' }],
  );
  t.ok(isGone(new ApiError('WATCH', '/x', 410, '{}')));
  t.notOk(isGone({ code: 410 }), 'only our own errors');
  const net = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1\nmore'), { code: 'ECONNREFUSED' });
  t.equal(statusOf(net), undefined);
  t.same(describeError(net), { code: 'ECONNREFUSED', reason: 'connect ECONNREFUSED 127.0.0.1:1' });
  t.same(describeError(null), { code: undefined, reason: 'null' });
});
