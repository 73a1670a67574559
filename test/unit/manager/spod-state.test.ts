import t from 'tap';
import {
  errorState,
  type RolloutView,
  rolloutState,
  type SpodState,
} from '../../../src/manager/spod-state.js';

const cases: Array<{
  name: string;
  ds: RolloutView;
  previous?: SpodState;
  state: SpodState;
  ready: 'True' | 'False';
  reason: string;
  message?: RegExp;
}> = [
  {
    name: 'just created, the DaemonSet controller has not looked yet',
    ds: { generation: 1 },
    state: 'Pending',
    ready: 'False',
    reason: 'Pending',
  },
  {
    name: 'first rollout, pods being created',
    ds: {
      generation: 1,
      observedGeneration: 1,
      desiredNumberScheduled: 3,
      currentNumberScheduled: 2,
      updatedNumberScheduled: 2,
    },
    state: 'Creating',
    ready: 'False',
    reason: 'Creating',
    message: /^2\/3 pods updated, 0 ready, 0 available$/,
  },
  {
    name: 'first rollout, no pod could be created (what the local cluster shows)',
    ds: { generation: 1, observedGeneration: 1, desiredNumberScheduled: 1 },
    state: 'Creating',
    ready: 'False',
    reason: 'Creating',
  },
  {
    name: 'all pods updated and available',
    ds: {
      generation: 2,
      observedGeneration: 2,
      desiredNumberScheduled: 3,
      currentNumberScheduled: 3,
      updatedNumberScheduled: 3,
      numberReady: 3,
      numberAvailable: 3,
    },
    previous: 'Creating',
    state: 'Running',
    ready: 'True',
    reason: 'Available',
    message: /^3\/3 pods updated, 3 ready, 3 available$/,
  },
  {
    name: 'no node selected: nothing to wait for',
    ds: { generation: 1, observedGeneration: 1, desiredNumberScheduled: 0 },
    state: 'Running',
    ready: 'True',
    reason: 'Available',
    message: /no node/,
  },
  {
    name: 'a new template the controller has not seen yet: an update of a running spod',
    ds: {
      generation: 3,
      observedGeneration: 2,
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      updatedNumberScheduled: 2,
      numberReady: 2,
      numberAvailable: 2,
    },
    previous: 'Running',
    state: 'Updating',
    ready: 'False',
    reason: 'Updating',
    message: /generation 3 not yet rolled out/,
  },
  {
    name: 'old pods are being replaced',
    ds: {
      generation: 3,
      observedGeneration: 3,
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      updatedNumberScheduled: 1,
      numberReady: 1,
      numberAvailable: 1,
    },
    previous: 'Running',
    state: 'Updating',
    ready: 'False',
    reason: 'Updating',
  },
  {
    name: 'an update whose old pods are all gone is still an update',
    ds: { generation: 3, observedGeneration: 3, desiredNumberScheduled: 1, updatedNumberScheduled: 1 },
    previous: 'Updating',
    state: 'Updating',
    ready: 'False',
    reason: 'Updating',
  },
  {
    name: 'after an error, available pods mean an update',
    ds: {
      generation: 4,
      observedGeneration: 4,
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      updatedNumberScheduled: 0,
      numberAvailable: 2,
      numberReady: 2,
    },
    previous: 'Error',
    state: 'Updating',
    ready: 'False',
    reason: 'Updating',
  },
  {
    name: 'ready but not yet available (minReadySeconds) is not Running',
    ds: {
      generation: 1,
      observedGeneration: 1,
      desiredNumberScheduled: 1,
      currentNumberScheduled: 1,
      updatedNumberScheduled: 1,
      numberReady: 1,
    },
    previous: 'Creating',
    state: 'Creating',
    ready: 'False',
    reason: 'Creating',
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const got = rolloutState(c.ds, c.previous);
    t.equal(got.state, c.state);
    t.match(got.condition, { type: 'Ready', status: c.ready, reason: c.reason });
    if (c.message) t.match(got.condition.message, c.message);
  });
}

t.test('a failed reconcile is Error with the cause', async (t) => {
  t.same(errorState('DaemonSet spod has no container "daemon"'), {
    state: 'Error',
    condition: {
      type: 'Ready',
      status: 'False',
      reason: 'ReconcileFailed',
      message: 'DaemonSet spod has no container "daemon"',
    },
  });
});
