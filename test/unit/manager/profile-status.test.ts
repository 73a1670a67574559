import t from 'tap';
import { DISABLED_CONDITION, type NodeState, rollUpNodeStates } from '../../../src/manager/profile-status.js';

const cases: Array<{ name: string; nodes: NodeState[]; expected: string[]; status: string; ready: string }> =
  [
    { name: 'no node reported yet', nodes: [], expected: ['a'], status: 'Pending', ready: 'False' },
    {
      name: 'every node installed',
      nodes: [
        { nodeName: 'a', status: 'Installed' },
        { nodeName: 'b', status: 'Installed' },
      ],
      expected: ['a', 'b'],
      status: 'Installed',
      ready: 'True',
    },
    {
      name: 'one node missing keeps it pending',
      nodes: [{ nodeName: 'a', status: 'Installed' }],
      expected: ['a', 'b'],
      status: 'Pending',
      ready: 'False',
    },
    {
      name: 'one error wins',
      nodes: [
        { nodeName: 'a', status: 'Installed' },
        { nodeName: 'b', status: 'Error', message: 'CannotSaveSeccompProfile: disk full' },
      ],
      expected: ['a', 'b'],
      status: 'Error',
      ready: 'False',
    },
    {
      name: 'a node that is gone does not count',
      nodes: [
        { nodeName: 'a', status: 'Installed' },
        { nodeName: 'gone', status: 'Error' },
      ],
      expected: ['a'],
      status: 'Installed',
      ready: 'True',
    },
    {
      name: 'terminating beats installed',
      nodes: [
        { nodeName: 'a', status: 'Terminating' },
        { nodeName: 'b', status: 'Installed' },
      ],
      expected: ['a', 'b'],
      status: 'Terminating',
      ready: 'False',
    },
  ];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const r = rollUpNodeStates(c.nodes, c.expected);
    t.equal(r.status, c.status);
    t.equal(r.condition.status, c.ready);
  });
}

t.test('the error message names the failing node', async (t) => {
  const r = rollUpNodeStates(
    [{ nodeName: 'b', status: 'Error', message: 'InvalidSeccompProfile: x' }],
    ['b'],
  );
  t.equal(r.condition.message, 'b: InvalidSeccompProfile: x');
});

t.test('single-namespace mode (nodes unknown): the nodes that reported are the expected ones', async (t) => {
  t.equal(rollUpNodeStates([], undefined).status, 'Pending', 'nothing reported yet');
  t.equal(
    rollUpNodeStates(
      [
        { nodeName: 'a', status: 'Installed' },
        { nodeName: 'b', status: 'Installed' },
      ],
      undefined,
    ).status,
    'Installed',
  );
  const mixed = rollUpNodeStates(
    [
      { nodeName: 'a', status: 'Installed' },
      { nodeName: 'b', status: 'Error', message: 'CannotSaveSeccompProfile: x' },
    ],
    undefined,
  );
  t.equal(mixed.status, 'Error');
  t.equal(mixed.condition.message, 'b: CannotSaveSeccompProfile: x');
});

t.test('Disabled (disableProfileAfterRecording): below Partial, above Pending', async (t) => {
  const r = rollUpNodeStates([{ nodeName: 'a', status: 'Disabled' }], ['a', 'b']);
  t.equal(r.status, 'Disabled', 'a node that has not reported does not make it Pending');
  t.same(r.condition, DISABLED_CONDITION);
  t.match(r.condition.message, /remove the label spo.x-k8s.io\/disabled/);
  t.equal(
    rollUpNodeStates(
      [
        { nodeName: 'a', status: 'Disabled' },
        { nodeName: 'b', status: 'Error', message: 'x' },
      ],
      ['a', 'b'],
    ).status,
    'Error',
  );
});
