import t from 'tap';
import { type NodeState, rollUpNodeStates } from '../../../src/manager/profile-status.js';

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
