import t from 'tap';
import { METRICS_PATHS, routeRequest } from '../../../src/daemon/http-routes.js';

t.test('each route by its path, whatever the query string', async (t) => {
  t.same(routeRequest('GET', '/healthz'), { kind: 'healthz' });
  t.same(routeRequest('GET', '/readyz?verbose'), { kind: 'readyz' });
  for (const path of METRICS_PATHS) {
    t.same(routeRequest('GET', path), { kind: 'metrics', path });
    t.same(routeRequest('HEAD', `${path}?x=1`), { kind: 'metrics', path });
  }
});

t.test('unknown paths are not found, whatever the method', async (t) => {
  for (const url of [
    '/',
    '',
    undefined,
    '/metrics/',
    '/metrics-spod/x',
    '/healthz/',
    '//healthz',
    '/HEALTHZ',
  ])
    t.same(routeRequest('GET', url), { kind: 'not-found' }, String(url));
  t.same(routeRequest('DELETE', '/nothing'), { kind: 'not-found' });
});

t.test('only GET and HEAD are allowed on a route', async (t) => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', undefined])
    t.same(routeRequest(method, '/metrics'), { kind: 'method-not-allowed' }, String(method));
});
