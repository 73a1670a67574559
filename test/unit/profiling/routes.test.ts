import t from 'tap';
import {
  DEFAULT_PROFILE_SECONDS,
  profileFileName,
  profilingEndpoint,
  profilingIndex,
  routeProfiling,
} from '../../../src/profiling/routes.js';

t.test('routes', async (t) => {
  const cases: Array<[method: string | undefined, url: string | undefined, expected: object]> = [
    ['GET', '/debug/pprof/', { kind: 'index' }],
    ['GET', '/debug/pprof', { kind: 'index' }],
    ['GET', '/debug/pprof/heap', { kind: 'heap' }],
    ['GET', '/debug/pprof/heap?gc=1', { kind: 'heap' }],
    ['GET', '/debug/pprof/profile', { kind: 'cpu', seconds: DEFAULT_PROFILE_SECONDS }],
    ['GET', '/debug/pprof/profile?seconds=', { kind: 'cpu', seconds: DEFAULT_PROFILE_SECONDS }],
    ['GET', '/debug/pprof/profile?seconds=1', { kind: 'cpu', seconds: 1 }],
    ['GET', '/debug/pprof/profile/?seconds=60', { kind: 'cpu', seconds: 60 }],
    ['GET', '/debug/pprof/profile?seconds=0', { kind: 'error', status: 400 }],
    ['GET', '/debug/pprof/profile?seconds=61', { kind: 'error', status: 400 }],
    ['GET', '/debug/pprof/profile?seconds=1.5', { kind: 'error', status: 400 }],
    ['GET', '/debug/pprof/profile?seconds=-1', { kind: 'error', status: 400 }],
    ['GET', '/debug/pprof/profile?seconds=1e1', { kind: 'error', status: 400 }],
    ['GET', '/debug/pprof/profile?seconds=abc', { kind: 'error', status: 400 }],
    ['POST', '/debug/pprof/profile', { kind: 'error', status: 405 }],
    ['DELETE', '/debug/pprof/heap', { kind: 'error', status: 405 }],
    [undefined, '/debug/pprof/', { kind: 'error', status: 405 }],
    ['GET', '/debug/pprof/goroutine', { kind: 'error', status: 404 }],
    ['GET', '/metrics', { kind: 'error', status: 404 }],
    ['GET', '/', { kind: 'error', status: 404 }],
    ['GET', undefined, { kind: 'error', status: 404 }],
    ['GET', '//debug/pprof/../../etc/passwd', { kind: 'error', status: 404 }],
  ];
  for (const [method, url, expected] of cases)
    t.match(routeProfiling(method, url), expected, `${method} ${url}`);
  const bad = routeProfiling('GET', '/debug/pprof/profile?seconds=600');
  t.same(bad, {
    kind: 'error',
    status: 400,
    message: 'seconds must be a whole number from 1 to 60, not "600"',
  });
});

t.test('index, file names and the logged endpoint', async (t) => {
  const index = profilingIndex('daemon');
  t.match(index, /^seccompctl daemon profiling/);
  t.match(index, /\/debug\/pprof\/profile\?seconds=N/);
  t.match(index, /\/debug\/pprof\/heap/);
  t.match(index, /409/);
  const at = new Date('2024-05-06T07:08:09.123Z');
  t.equal(profileFileName('daemon', 'cpu', at), 'daemon-20240506T070809Z.cpuprofile');
  t.equal(profileFileName('webhook', 'heap', at), 'webhook-20240506T070809Z.heapsnapshot');
  t.equal(profilingEndpoint(6060), 'localhost:6060');
});
