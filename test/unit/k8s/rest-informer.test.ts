import pino from 'pino';
import t from 'tap';
import { ApiError } from '../../../src/k8s/rest/api-error.js';
import type { KubeClient } from '../../../src/k8s/rest/client.js';
import { informerFromSource, type ListWatchSource, listWatchSource } from '../../../src/k8s/rest/informer.js';
import type { Informer, KubeObject } from '../../../src/k8s/rest/types.js';
import type { WatchedEvent } from '../../../src/k8s/rest/watch.js';

type Emit = (e: WatchedEvent<KubeObject>) => void;
type WatchStep = (emit: Emit, signal: AbortSignal) => Promise<void>;

const log = pino({ level: 'silent' });
const obj = (name: string, resourceVersion: string, extra: object = {}): KubeObject => ({
  metadata: { namespace: 'ns', name, resourceVersion, uid: name, ...extra },
});
const gone = () => new ApiError('WATCH', '/x', 410, '{"kind":"Status","code":410,"reason":"Expired"}');
const untilAborted = (signal: AbortSignal) =>
  new Promise<void>((_, reject) =>
    signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
  );

/** A source that plays scripted lists and watches; once the script runs out, watches hang until stopped. */
function scripted(
  lists: Array<() => Promise<{ items: KubeObject[]; resourceVersion: string }>>,
  watches: WatchStep[],
) {
  const calls: string[] = [];
  const source: ListWatchSource<KubeObject> = {
    list() {
      calls.push('list');
      const next = lists.shift();
      return next ? next() : Promise.reject(new Error('no more lists'));
    },
    watch(resourceVersion, onEvent, signal) {
      calls.push(`watch@${resourceVersion}`);
      const next = watches.shift();
      return next ? next(onEvent, signal) : untilAborted(signal);
    },
  };
  return { source, calls };
}

async function until(what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function record(informer: Informer<KubeObject>) {
  const seen: string[] = [];
  informer.onChange((o, verb, previous) => {
    const from = previous ? ` from @${previous.metadata?.resourceVersion}` : '';
    seen.push(`${verb} ${o.metadata?.name}@${o.metadata?.resourceVersion}${from}`);
  });
  return seen;
}

t.test('list, then watch events, resumed from the last version when the server ends the watch', async (t) => {
  const { source, calls } = scripted(
    [async () => ({ items: [obj('a', '1', { managedFields: [{ manager: 'x' }] })], resourceVersion: '10' })],
    [
      async (emit) => {
        emit({ type: 'ADDED', object: obj('b', '11') });
        emit({ type: 'MODIFIED', object: obj('a', '12') });
        emit({ type: 'MODIFIED', object: obj('a', '12') });
        emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '13' } } });
      },
      async (emit) => {
        emit({ type: 'DELETED', object: obj('b', '14') });
        emit({ type: 'DELETED', object: obj('never-seen', '15') });
      },
    ],
  );
  const informer = informerFromSource(source, { log, what: 'test' });
  const seen = record(informer);
  t.equal(informer.synced(), false);
  await informer.start();
  t.equal(informer.synced(), true);
  t.same(
    informer.cache.get('a', 'ns')?.metadata,
    { namespace: 'ns', name: 'a', resourceVersion: '1', uid: 'a' },
    'managedFields dropped',
  );
  await until('third watch', () => calls.length === 4);
  t.same(
    calls,
    ['list', 'watch@10', 'watch@13', 'watch@15'],
    'each watch starts where the last ended, bookmarks too',
  );
  t.same(
    seen,
    ['add a@1', 'add b@11', 'update a@12 from @1', 'delete b@14'],
    'an unchanged version is no update; an update hands over the state it replaced',
  );
  t.same(
    informer.cache.list('ns').map((o) => o.metadata?.name),
    ['a'],
  );
  await informer.stop();
});

t.test('410 means a new list, and handlers get what changed meanwhile', async (t) => {
  const { source, calls } = scripted(
    [
      async () => ({ items: [obj('keep', '1'), obj('change', '1'), obj('drop', '1')], resourceVersion: '5' }),
      async () => ({ items: [obj('keep', '1'), obj('change', '7'), obj('new', '8')], resourceVersion: '9' }),
    ],
    [
      async () => {
        throw gone();
      },
    ],
  );
  const informer = informerFromSource(source, { log, what: 'test' });
  await informer.start();
  const seen = record(informer);
  await until('watch after the relist', () => calls.length === 4);
  t.same(calls, ['list', 'watch@5', 'list', 'watch@9']);
  t.same(seen, ['delete drop@1', 'update change@7 from @1', 'add new@8']);
  t.same(
    informer.cache
      .list()
      .map((o) => o.metadata?.name)
      .sort(),
    ['change', 'keep', 'new'],
  );
  await informer.stop();
});

t.test(
  'failures back off; a failed watch resumes without a list; start waits for the first list',
  async (t) => {
    let started = false;
    const { source, calls } = scripted(
      [
        () => Promise.reject(new ApiError('GET', '/x', 503, 'unavailable')),
        async () => ({ items: [], resourceVersion: '3' }),
      ],
      [
        () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
        async () => {}, // ends at once with nothing: counted as a failure, so it cannot spin
        async (emit) => emit({ type: 'ADDED', object: obj('late', '4') }),
      ],
    );
    const informer = informerFromSource(source, { log, what: 'test' });
    const t0 = Date.now();
    const start = informer.start().then(() => {
      started = true;
    });
    await until('first list failed', () => calls.length === 1);
    t.equal(started, false, 'not synced while the list fails');
    await start;
    t.ok(Date.now() - t0 >= 450, 'the retry waited');
    await until(
      'the event after two failed watches',
      () => informer.cache.get('late', 'ns') !== undefined,
      10_000,
    );
    t.same(calls.slice(0, 5), ['list', 'list', 'watch@3', 'watch@3', 'watch@3']);
    t.ok(Date.now() - t0 >= 450 + 500 + 1_000, 'back-off doubled across the failures');
    await informer.stop();
  },
);

t.test(
  'a throwing handler neither stops the others nor the informer; stop ends a hanging watch',
  async (t) => {
    const { source, calls } = scripted(
      [async () => ({ items: [], resourceVersion: '1' })],
      [
        async (emit) => {
          emit({ type: 'ADDED', object: obj('x', '2') });
          emit({ type: 'ADDED', object: obj('y', '3') });
        },
      ],
    );
    const informer = informerFromSource(source, { log, what: 'test', transform: (o) => o });
    informer.onChange(() => {
      throw new Error('handler bug');
    });
    const seen = record(informer);
    await informer.start();
    await until('second watch', () => calls.length === 3);
    t.same(seen, ['add x@2', 'add y@3']);
    await informer.stop();
    t.same(calls, ['list', 'watch@1', 'watch@3'], 'no watch after stop');
  },
);

t.test('stop before the first list resolves start', async (t) => {
  const { source } = scripted([() => new Promise(() => {})], []);
  const informer = informerFromSource(source, { log, what: 'test' });
  const start = informer.start();
  await informer.stop().catch(() => {});
  await start;
  t.equal(informer.synced(), false);
});

t.test('the list source transforms each page as it arrives, before asking for the next', async (t) => {
  const pages = [
    { items: [obj('a', '1', { managedFields: [{}] }), obj('b', '2')], next: 'p2' },
    { items: [obj('c', '3')], next: undefined },
  ];
  const events: string[] = [];
  const client = {
    async list(req: { continue?: string; limit?: number }) {
      events.push(`page ${req.continue ?? 'first'} of ${req.limit}`);
      const page = req.continue === 'p2' ? pages[1] : pages[0];
      return {
        apiVersion: 'v1',
        kind: 'ConfigMapList',
        metadata: { resourceVersion: '9', continue: page?.next ?? '' },
        items: page?.items ?? [],
      };
    },
  } as unknown as KubeClient;
  const source = listWatchSource<KubeObject>(
    client,
    { group: '', version: 'v1', plural: 'configmaps' },
    {
      pageSize: 2,
      transform: (o) => {
        events.push(`transform ${o.metadata?.name} ${o.kind}`);
        return { ...o, metadata: { name: o.metadata?.name ?? '' } };
      },
    },
  );
  const listed = await source.list(new AbortController().signal);
  t.same(events, [
    'page first of 2',
    'transform a ConfigMap',
    'transform b ConfigMap',
    'page p2 of 2',
    'transform c ConfigMap',
  ]);
  t.strictSame(
    listed.items.map((o) => o.metadata),
    [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
  );
  t.equal(listed.resourceVersion, '9');
});
