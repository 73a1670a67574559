import t from 'tap';
import { ObjectStore } from '../../../src/k8s/rest/object-store.js';
import { diffRelist } from '../../../src/k8s/rest/relist.js';
import type { KubeObject } from '../../../src/k8s/rest/types.js';

const obj = (
  namespace: string,
  name: string,
  resourceVersion: string,
  uid = `${namespace}-${name}`,
): KubeObject => ({
  metadata: { namespace, name, resourceVersion, uid },
});
const names = (objs: readonly KubeObject[]) =>
  objs.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`).sort();

t.test('relist diff', async (t) => {
  const cases = [
    { name: 'nothing changed', known: [obj('a', 'x', '1')], fresh: [obj('a', 'x', '1')], out: [[], [], []] },
    { name: 'first list', known: [], fresh: [obj('a', 'x', '1')], out: [['a/x'], [], []] },
    {
      name: 'all gone',
      known: [obj('a', 'x', '1'), obj('b', 'x', '1')],
      fresh: [],
      out: [[], [], ['a/x', 'b/x']],
    },
    {
      name: 'one of each',
      known: [obj('a', 'same', '1'), obj('a', 'changed', '1'), obj('a', 'gone', '1')],
      fresh: [obj('a', 'same', '1'), obj('a', 'changed', '5'), obj('a', 'new', '6')],
      out: [['a/new'], ['a/changed'], ['a/gone']],
    },
    {
      name: 'same name in another namespace is another object',
      known: [obj('a', 'x', '1')],
      fresh: [obj('b', 'x', '1')],
      out: [['b/x'], [], ['a/x']],
    },
    {
      name: 'deleted and created again under its name',
      known: [obj('a', 'x', '1', 'old-uid')],
      fresh: [obj('a', 'x', '9', 'new-uid')],
      out: [['a/x'], [], ['a/x']],
    },
    {
      name: 'cluster-scoped',
      known: [{ metadata: { name: 'n', resourceVersion: '1' } }],
      fresh: [{ metadata: { name: 'n', resourceVersion: '2' } }],
      out: [[], ['undefined/n'], []],
    },
  ];
  for (const c of cases) {
    const d = diffRelist(c.known, c.fresh);
    t.same([names(d.added), names(d.updated.map((u) => u.object)), names(d.deleted)], c.out, c.name);
  }
  const gone = obj('a', 'x', '1', 'old-uid');
  t.equal(diffRelist([gone], []).deleted[0], gone, 'deletes carry the last known state');
  const [known, fresh] = [obj('a', 'x', '1'), obj('a', 'x', '2')];
  const [update] = diffRelist([known], [fresh]).updated;
  t.equal(update?.object, fresh, 'updates carry the new state');
  t.equal(update?.previous, known, 'and the state the cache had');
});

t.test('object store: per-namespace index', async (t) => {
  const store = new ObjectStore<KubeObject>();
  t.equal(store.set(obj('a', 'x', '1')), undefined);
  const previous = obj('a', 'y', '1');
  store.set(previous);
  store.set(obj('b', 'x', '1'));
  store.set({ metadata: { name: 'cluster-wide', resourceVersion: '1' } });
  t.equal(store.size, 4);
  t.equal(store.set(obj('a', 'y', '2')), previous, 'set returns what it replaced');
  t.equal(store.size, 4);
  t.same(names(store.list('a')), ['a/x', 'a/y']);
  t.same(names(store.list('b')), ['b/x']);
  t.same(store.list('c'), []);
  t.equal(store.list().length, 4);
  t.equal(store.get('y', 'a')?.metadata?.resourceVersion, '2');
  t.equal(store.get('x', 'c'), undefined);
  t.equal(store.get('cluster-wide')?.metadata?.name, 'cluster-wide', 'cluster-scoped under no namespace');
  t.equal(
    store.delete(obj('b', 'x', '7'))?.metadata?.resourceVersion,
    '1',
    'delete returns the cached object',
  );
  t.equal(store.delete(obj('b', 'x', '7')), undefined);
  t.same(store.list('b'), []);
  t.equal(store.size, 3);
  t.equal([...store.values()].length, 3);
  store.clear();
  t.same([store.size, store.list()], [0, []]);
});
