import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { Enricher } from '../../../src/enricher/enricher.js';
import { parseFilters } from '../../../src/enricher/filters.js';
import { createEnricherMetrics } from '../../../src/enricher/metrics.js';
import { RecordingStore } from '../../../src/enricher/recording-store.js';
import type { ContainerInfo, ContainerResolver } from '../../../src/enricher/resolver.js';

const line = (pid: number, syscall: number, serial: number, exe = '/usr/sbin/nginx') =>
  `audit: type=1326 audit(1700000000.123:${serial}): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=${pid} comm="x" exe="${exe}" sig=0 arch=c000003e syscall=${syscall} compat=0 ip=0x1 code=0x7ffc0000`;

/** A resolver from tables; a container becomes known after `knownAfter` lookups. */
function fakeResolver(
  pids: Record<number, string>,
  pods: Record<string, ContainerInfo & { knownAfter?: number }>,
): ContainerResolver & { lookups: Map<string, number> } {
  const lookups = new Map<string, number>();
  return {
    lookups,
    async containerOfPid(pid) {
      const id = pids[pid];
      return id === undefined ? undefined : { containerId: id };
    },
    async podOfContainer(id) {
      const n = (lookups.get(id) ?? 0) + 1;
      lookups.set(id, n);
      const info = pods[id];
      if (info === undefined || n <= (info.knownAfter ?? 0)) return undefined;
      return info;
    },
  };
}

function setup(resolver: ContainerResolver, filtersJson = '[]') {
  const out: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) out.push(JSON.parse(l));
      cb();
    },
  });
  const log = pino({ level: 'info', base: null, timestamp: false }, sink);
  const registry = new Registry();
  const store = new RecordingStore();
  const enricher = new Enricher({
    nodeName: 'dev-node',
    source: 'kmsg',
    resolver,
    store,
    filters: parseFilters(filtersJson),
    log,
    metrics: createEnricherMetrics(registry),
    retry: { firstMs: 1, factor: 1, attempts: 3 },
    backlog: { maxContainers: 2, maxLinesPerContainer: 2 },
  });
  const audits = () => out.filter((o) => o['msg'] === 'audit');
  const metric = async (name: string) =>
    (await registry.getSingleMetric(name)?.get())?.values.map((v) => [v.labels, v.value]) ?? [];
  return { enricher, store, audits, metric };
}

const redis: ContainerInfo = {
  namespace: 'default',
  pod: 'my-pod',
  container: 'redis',
  podAnnotations: { 'io.containers.trace-logs/redis': 'test-recording' },
};
const nginx: ContainerInfo = { namespace: 'default', pod: 'my-pod', container: 'nginx', podAnnotations: {} };

t.test('attributed records: one line per record, metric series, recording store', async (t) => {
  const { enricher, store, audits, metric } = setup(
    fakeResolver({ 10: 'c-redis', 11: 'c-nginx' }, { 'c-redis': redis, 'c-nginx': nginx }),
  );
  await enricher.handleLines([
    line(10, 232, 1),
    'some other line',
    line(10, 232, 2),
    line(11, 0, 3),
    'audit: type=1326 broken',
    line(99, 1, 4),
  ]);
  t.same(audits()[0], {
    level: 30,
    msg: 'audit',
    node: 'dev-node',
    namespace: 'default',
    pod: 'my-pod',
    container: 'redis',
    executable: '/usr/sbin/nginx',
    pid: 10,
    syscallID: 232,
    syscallName: 'epoll_wait',
    timestamp: '1700000000.123:1',
    type: 'seccomp',
  });
  t.equal(audits().length, 3);
  t.same(await metric('security_profiles_operator_seccomp_profile_audit_total'), [
    [
      {
        node: 'dev-node',
        namespace: 'default',
        pod: 'my-pod',
        container: 'redis',
        executable: '/usr/sbin/nginx',
        syscall: 'epoll_wait',
      },
      2,
    ],
    [
      {
        node: 'dev-node',
        namespace: 'default',
        pod: 'my-pod',
        container: 'nginx',
        executable: '/usr/sbin/nginx',
        syscall: 'read',
      },
      1,
    ],
  ]);
  t.same(await metric('enricher_lines_total'), [
    [{ source: 'kmsg', result: 'seccomp' }, 4],
    [{ source: 'kmsg', result: 'ignored' }, 1],
    [{ source: 'kmsg', result: 'malformed' }, 1],
  ]);
  t.same(await metric('enricher_records_total'), [
    [{ result: 'attributed' }, 3],
    [{ result: 'unattributed' }, 1],
  ]);
  const recorded = store.select({ recording: 'test-recording', namespace: 'default' });
  t.same(
    recorded.map((r) => [r.key, Object.fromEntries(r.syscalls)]),
    [
      [
        { recording: 'test-recording', namespace: 'default', pod: 'my-pod', container: 'redis' },
        { x86_64: ['epoll_wait'] },
      ],
    ],
  );
});

t.test('level None keeps records out of log and metric, but still records', async (t) => {
  const { enricher, store, audits, metric } = setup(
    fakeResolver({ 10: 'c-redis' }, { 'c-redis': redis }),
    '[{"priority":1,"level":"None","matchLabels":{"container":"redis"}}]',
  );
  await enricher.handleLines([line(10, 232, 1)]);
  t.equal(audits().length, 0);
  t.same(await metric('security_profiles_operator_seccomp_profile_audit_total'), []);
  t.equal(store.select({ recording: 'test-recording', namespace: 'default' }).length, 1);
});

t.test('a container the runtime knows only later: backlogged, then replayed in order', async (t) => {
  const resolver = fakeResolver({ 10: 'c-redis' }, { 'c-redis': { ...redis, knownAfter: 2 } });
  const { enricher, audits } = setup(resolver);
  await enricher.handleLines([line(10, 0, 1)]);
  await enricher.handleLines([line(10, 1, 2), line(10, 3, 3)]);
  t.equal(audits().length, 0, 'nothing yet');
  await enricher.idle();
  t.same(
    audits().map((a) => a['timestamp']),
    ['1700000000.123:1', '1700000000.123:2'],
    'in order; the third line overflowed the per-container bound',
  );
  t.equal(resolver.lookups.get('c-redis'), 3);
  await enricher.handleLines([line(10, 4, 4)]);
  t.equal(audits().length, 3, 'cached now');
  t.equal(resolver.lookups.get('c-redis'), 3);
});

t.test('a container that never becomes known: records counted and dropped', async (t) => {
  const { enricher, audits, metric } = setup(fakeResolver({ 10: 'c-gone', 11: 'c-a', 12: 'c-b' }, {}));
  await enricher.handleLines([line(10, 0, 1), line(11, 0, 2), line(12, 0, 3)]);
  await enricher.idle();
  t.equal(audits().length, 0);
  t.same(await metric('enricher_records_total'), [
    [{ result: 'dropped' }, 1],
    [{ result: 'unattributed' }, 2],
  ]);
  enricher.stop();
});

t.test('resolver failures are counted, not thrown', async (t) => {
  const resolver: ContainerResolver = {
    containerOfPid: async () => {
      throw new Error('EACCES');
    },
    podOfContainer: async () => undefined,
  };
  const { enricher, metric } = setup(resolver);
  await enricher.handleLines([line(10, 0, 1)]);
  t.same(await metric('enricher_records_total'), [[{ result: 'error' }, 1]]);
});

t.test('settled(): idle, within a bound', async (t) => {
  const { enricher } = setup(fakeResolver({ 10: 'c-redis' }, { 'c-redis': { ...redis, knownAfter: 1 } }));
  t.equal(await enricher.settled(1_000), true, 'nothing waits');
  await enricher.handleLines([line(10, 0, 1)]);
  t.equal(await enricher.settled(1_000), true, 'the backlog was replayed in time');

  const slow = new Enricher({
    nodeName: 'dev-node',
    source: 'kmsg',
    resolver: fakeResolver({ 10: 'c-late' }, {}),
    store: new RecordingStore(),
    filters: [],
    log: pino({ level: 'silent' }),
    metrics: createEnricherMetrics(new Registry()),
    retry: { firstMs: 200, factor: 1, attempts: 2 },
  });
  t.teardown(() => slow.stop());
  await slow.handleLines([line(10, 0, 1)]);
  t.equal(await slow.settled(10), false, 'a container still unknown when the bound runs out');
  t.equal(await slow.settled(2_000), true, 'and settled once its records are dropped');
});
