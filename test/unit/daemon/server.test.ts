import { pino } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import t, { type Test as Tap } from 'tap';
import type { AuthDecision, MetricsAuthorizer } from '../../../src/daemon/metrics-auth.js';
import { buildDaemonServer, METRICS_PATHS } from '../../../src/daemon/server.js';

/** Decides by token: "reader" may read /metrics-spod only, "all" both paths, "broken" cannot be checked. */
class TableAuthorizer implements MetricsAuthorizer {
  readonly asked: string[] = [];
  async check(authorization: string | undefined, path: string): Promise<AuthDecision> {
    this.asked.push(path);
    const token = authorization?.replace(/^Bearer /, '');
    if (token === undefined) return { allowed: false, status: 401, reason: 'missing bearer token' };
    if (token === 'broken') throw new Error('apiserver unreachable');
    if (token === 'all' || (token === 'reader' && path === '/metrics-spod')) return { allowed: true };
    return { allowed: false, status: 403, reason: `${token} may not get ${path}` };
  }
}

function server(authorizer: MetricsAuthorizer | undefined, ready = true) {
  const registry = new Registry();
  new Counter({
    name: 'security_profiles_operator_seccomp_profile_total',
    help: 'x',
    labelNames: ['operation'],
    registers: [registry],
  }).inc({ operation: 'update' });
  return buildDaemonServer({ log: pino({ level: 'silent' }), registry, ready: () => ready, authorizer });
}

/** Listens on a free loopback port; requests go over a real socket, as a kubelet's or a scraper's do. */
async function listening(t: Tap, authorizer: MetricsAuthorizer | undefined, ready = true) {
  const app = server(authorizer, ready);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  return (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init);
}

t.test('metrics answer on the seed path and on /metrics', async (t) => {
  t.same(METRICS_PATHS, ['/metrics-spod', '/metrics']);
  const authorizer = new TableAuthorizer();
  const get = await listening(t, authorizer);
  const cases = [
    { path: '/metrics-spod', token: undefined, status: 401 },
    { path: '/metrics-spod', token: 'stranger', status: 403 },
    { path: '/metrics-spod', token: 'reader', status: 200 },
    { path: '/metrics', token: 'reader', status: 403 },
    { path: '/metrics', token: 'all', status: 200 },
    { path: '/metrics-spod', token: 'broken', status: 503 },
  ];
  for (const c of cases) {
    const res = await get(c.path, {
      headers: c.token !== undefined ? { authorization: `Bearer ${c.token}` } : {},
    });
    t.equal(res.status, c.status, `${c.path} with ${c.token ?? 'no token'}`);
    const body = await res.text();
    if (c.status === 200) {
      t.match(body, /security_profiles_operator_seccomp_profile_total\{operation="update"\} 1/);
      t.match(res.headers.get('content-type'), /^text\/plain/);
    } else {
      t.match(JSON.parse(body), { error: String }, 'a refusal says why');
    }
  }
  t.same(
    authorizer.asked,
    cases.map((c) => c.path),
    'each path is checked as itself',
  );
});

t.test('probes need no token; readiness follows the daemon', async (t) => {
  const authorizer = new TableAuthorizer();
  const get = await listening(t, authorizer, false);
  const health = await get('/healthz');
  t.equal(health.status, 200);
  t.same(await health.json(), { status: 'ok' });
  const ready = await get('/readyz');
  t.equal(ready.status, 503);
  t.same(await ready.json(), { status: 'not ready' });
  const head = await get('/healthz', { method: 'HEAD' });
  t.equal(head.status, 200, 'HEAD answers like GET');
  t.equal(await head.text(), '', 'without a body');
  t.same(authorizer.asked, []);
});

t.test('without an authorizer (--insecure-metrics) anyone reads both paths', async (t) => {
  const get = await listening(t, undefined);
  for (const url of METRICS_PATHS) t.equal((await get(url)).status, 200, url);
});

t.test('other paths are not found, other methods not allowed, and neither asks the authorizer', async (t) => {
  const authorizer = new TableAuthorizer();
  const get = await listening(t, authorizer);
  t.equal((await get('/')).status, 404);
  t.equal((await get('/metrics-spod/x', { headers: { authorization: 'Bearer all' } })).status, 404);
  const post = await get('/metrics', { method: 'POST', headers: { authorization: 'Bearer all' } });
  t.equal(post.status, 405);
  t.equal(post.headers.get('allow'), 'GET, HEAD');
  t.equal((await get('/metrics-spod?name[]=x', { headers: { authorization: 'Bearer all' } })).status, 200);
  t.same(authorizer.asked, ['/metrics-spod'], 'only the metrics request was checked');
});

t.test('a failing metrics collection is a 500, and the server keeps serving', async (t) => {
  const registry = new Registry();
  new Gauge({
    name: 'broken',
    help: 'x',
    registers: [registry],
    collect() {
      throw new Error('collector failed');
    },
  });
  const app = buildDaemonServer({
    log: pino({ level: 'silent' }),
    registry,
    ready: () => true,
    authorizer: undefined,
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  t.equal((await fetch(`${base}/metrics`)).status, 500);
  t.equal((await fetch(`${base}/healthz`)).status, 200);
});

t.test('close() does not wait for idle keep-alive connections', async (t) => {
  const app = server(undefined);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  t.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  // fetch keeps its connection open for the next request
  t.equal((await fetch(`${base}/healthz`)).status, 200);
  const started = Date.now();
  await app.close();
  t.ok(Date.now() - started < 2000, `closed in ${Date.now() - started} ms`);
  await app.close();
  t.pass('a second close is harmless');
});
