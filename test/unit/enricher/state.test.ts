import t from 'tap';
import { Backlog } from '../../../src/enricher/backlog.js';
import { RecordingStore } from '../../../src/enricher/recording-store.js';
import { TtlCache } from '../../../src/enricher/ttl-cache.js';

t.test('TtlCache expires and evicts the oldest', async (t) => {
  let now = 0;
  const c = new TtlCache<string, number>(2, 100, () => now);
  c.set('a', 1);
  c.set('b', 2, 10);
  t.equal(c.get('b'), 2);
  now = 10;
  t.equal(c.get('b'), undefined, 'expired at its own ttl');
  c.set('b', 2);
  c.set('c', 3);
  t.equal(c.get('a'), undefined, 'evicted when full');
  t.equal(c.get('c'), 3);
  now = 200;
  t.equal(c.get('c'), undefined);
});

t.test('Backlog bounds keys and lines, keeps order', async (t) => {
  const b = new Backlog<string, number>(2, 3);
  t.equal(b.push('x', 1), 'first');
  t.equal(b.push('x', 2), 'queued');
  t.equal(b.push('x', 3), 'queued');
  t.equal(b.push('x', 4), 'dropped');
  t.equal(b.push('y', 1), 'first');
  t.equal(b.push('z', 1), 'dropped', 'key limit');
  t.same(b.take('x'), [1, 2, 3]);
  t.equal(b.has('x'), false);
  t.equal(b.push('z', 1), 'first', 'room again');
});

t.test('RecordingStore selects, resets and bounds', async (t) => {
  const s = new RecordingStore(3);
  const k = (pod: string, container: string, recording = 'rec') => ({
    recording,
    namespace: 'ns',
    pod,
    container,
  });
  s.add(k('p1', 'nginx'), 'x86_64', 'read');
  s.add(k('p1', 'nginx'), 'x86_64', 'close');
  s.add(k('p1', 'nginx'), 'x86_64', 'read');
  s.add(k('p1', 'redis'), 'x86_64', 'epoll_wait');
  s.add(k('p2', 'nginx', 'other'), 'aarch64', 'openat');
  t.equal(s.add(k('p3', 'x'), 'x86_64', 'read'), false, 'full');
  const p1 = s.select({ recording: 'rec', namespace: 'ns', pod: 'p1' });
  t.same(
    p1.map((e) => [e.key.container, Object.fromEntries(e.syscalls), e.records]),
    [
      ['nginx', { x86_64: ['close', 'read'] }, 3],
      ['redis', { x86_64: ['epoll_wait'] }, 1],
    ],
  );
  t.equal(s.select({ recording: 'rec', namespace: 'other-ns' }).length, 0);
  t.equal(s.select({ recording: 'rec', namespace: 'ns', container: 'redis' }).length, 1);
  t.equal(s.reset({ recording: 'rec', namespace: 'ns', pod: 'p1', container: 'nginx' }), 1);
  t.equal(s.size, 2);
});

t.test('RecordingStore: pod uid tells apart pods made under the same name', async (t) => {
  const s = new RecordingStore();
  const key = { recording: 'rec', namespace: 'ns', pod: 'web-0', container: 'c' };
  s.add({ ...key, podUid: 'aa' }, 'x86_64', 'mkdir');
  s.add({ ...key, podUid: 'bb' }, 'x86_64', 'uname');
  s.add({ ...key, container: 'old' }, 'x86_64', 'read'); // a runtime that did not say the uid
  t.same(
    s.select({ ...key, podUid: 'aa' }).map((e) => e.syscalls.get('x86_64')),
    [['mkdir']],
    'the other pod of that name is not selected',
  );
  t.equal(
    s.select({ recording: 'rec', namespace: 'ns', pod: 'web-0', podUid: 'aa' }).length,
    2,
    'uid unknown: by name',
  );
  t.equal(s.select({ recording: 'rec', namespace: 'ns', pod: 'web-0' }).length, 3);
  t.equal(s.reset({ ...key, podUid: 'aa' }), 1);
  t.equal(s.size, 2);
});
