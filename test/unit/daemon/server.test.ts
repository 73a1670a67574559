import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import t from 'tap';
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

t.test('metrics answer on the seed path and on /metrics', async (t) => {
  t.same(METRICS_PATHS, ['/metrics-spod', '/metrics']);
  const authorizer = new TableAuthorizer();
  const app = server(authorizer);
  t.teardown(() => app.close());
  const cases = [
    { path: '/metrics-spod', token: undefined, status: 401 },
    { path: '/metrics-spod', token: 'stranger', status: 403 },
    { path: '/metrics-spod', token: 'reader', status: 200 },
    { path: '/metrics', token: 'reader', status: 403 },
    { path: '/metrics', token: 'all', status: 200 },
    { path: '/metrics-spod', token: 'broken', status: 503 },
  ];
  for (const c of cases) {
    const res = await app.inject({
      url: c.path,
      headers: c.token !== undefined ? { authorization: `Bearer ${c.token}` } : {},
    });
    t.equal(res.statusCode, c.status, `${c.path} with ${c.token ?? 'no token'}`);
    if (c.status === 200) {
      t.match(res.body, /security_profiles_operator_seccomp_profile_total\{operation="update"\} 1/);
      t.match(res.headers['content-type'], /^text\/plain/);
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
  const app = server(authorizer, false);
  t.teardown(() => app.close());
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 503);
  t.same(authorizer.asked, []);
});

t.test('without an authorizer (--insecure-metrics) anyone reads both paths', async (t) => {
  const app = server(undefined);
  t.teardown(() => app.close());
  for (const url of METRICS_PATHS) t.equal((await app.inject({ url })).statusCode, 200, url);
});
