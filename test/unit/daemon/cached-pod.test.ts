import t from 'tap';
import { type CachedPod, cachedPod } from '../../../src/daemon/cached-pod.js';
import { ALL_RECORDERS, isReplica, planPod, type RecorderKind } from '../../../src/daemon/recording-plan.js';

const ID = (c: string) => `containerd://${c.repeat(64)}`;

// A pod as the apiserver sends it: everything the kubelet, the scheduler and the user put there.
function fullPod(
  annotations: Record<string, string>,
  status: Record<string, unknown>,
  extra = {},
): CachedPod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-1',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '42',
      labels: { app: 'web' },
      annotations: { 'prometheus.io/scrape': 'true', ...annotations },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs', controller: true },
      ],
      managedFields: [{ manager: 'kubelet' }],
      ...extra,
    },
    spec: { nodeName: 'n1', containers: [{ name: 'web', image: 'web:1' }] },
    status,
  } as unknown as CachedPod;
}

const running = {
  phase: 'Running',
  conditions: [{ type: 'Ready', status: 'True' }],
  podIP: '10.0.0.1',
  initContainerStatuses: [
    {
      name: 'init',
      image: 'init:1',
      containerID: ID('a'),
      state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: '2026-11-22T06:00:00Z' } },
      lastState: {},
    },
  ],
  containerStatuses: [
    {
      name: 'web',
      image: 'web:1',
      imageID: 'sha256:x',
      ready: true,
      restartCount: 1,
      containerID: ID('b'),
      state: { running: { startedAt: '2026-11-22T06:00:01Z' } },
      lastState: { terminated: { exitCode: 1, containerID: ID('c'), reason: 'Error' } },
    },
    { name: 'side', state: { waiting: { reason: 'ContainerCreating' } } },
  ],
};

const cases: Array<[string, CachedPod]> = [
  ['recorded with bpf, running', fullPod({ 'io.containers.trace-bpf/web': 'rec' }, running)],
  [
    'recorded with logs, succeeded',
    fullPod({ 'io.containers.trace-logs/web': 'rec' }, { phase: 'Succeeded' }),
  ],
  [
    'recorded, being deleted, nothing runs',
    fullPod(
      { 'io.containers.trace-bpf/web': 'rec', 'io.containers.trace-bpf/init': 'rec' },
      { ...running, containerStatuses: [{ name: 'web', containerID: ID('b'), state: { terminated: {} } }] },
      { deletionTimestamp: '2026-11-22T06:10:00Z', finalizers: ['spo.x-k8s.io/profile-recording'] },
    ),
  ],
  [
    'recorded, running state null',
    fullPod(
      { 'io.containers.trace-bpf/web': 'rec' },
      {
        phase: 'Running',
        containerStatuses: [{ name: 'web', state: { running: null } }],
      },
    ),
  ],
  ['not recorded', fullPod({}, running)],
  ['recorded with an empty recording name', fullPod({ 'io.containers.trace-bpf/web': '' }, running)],
];

t.test('planPod and isReplica read the cached pod as they read the whole one', async (t) => {
  const availability: ReadonlySet<RecorderKind>[] = [ALL_RECORDERS, new Set(['bpf']), new Set(['logs'])];
  for (const [what, pod] of cases) {
    const cached = cachedPod(structuredClone(pod));
    for (const available of availability) {
      t.same(planPod(cached, available), planPod(pod, available), `${what}, ${[...available]}`);
    }
    if (planPod(pod) !== undefined) t.equal(isReplica(cached), isReplica(pod), `${what}: replica`);
  }
});

t.test('a recorded pod keeps what the controller reads, and drops the rest', async (t) => {
  const pod = fullPod({ 'io.containers.trace-bpf/web': 'rec' }, running, {
    finalizers: ['spo.x-k8s.io/profile-recording'],
  });
  const cached = cachedPod(pod);
  t.strictSame(cached, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-1',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '42',
      annotations: { 'io.containers.trace-bpf/web': 'rec' },
      finalizers: ['spo.x-k8s.io/profile-recording'],
      ownerReferences: [{ controller: true }],
    },
    status: {
      phase: 'Running',
      initContainerStatuses: [{ name: 'init', containerID: ID('a'), state: { terminated: {} } }],
      containerStatuses: [
        {
          name: 'web',
          containerID: ID('b'),
          state: { running: {} },
          lastState: { terminated: { containerID: ID('c') } },
        },
        { name: 'side', state: { waiting: {} } },
      ],
    },
  });
  t.strictSame(cachedPod(cached), cached, 'idempotent: the informer may apply it twice');
});

t.test('a pod nobody records keeps its identity only', async (t) => {
  const cached = cachedPod(fullPod({}, running));
  t.strictSame(cached, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', resourceVersion: '42' },
  });
  t.strictSame(cachedPod(cached), cached, 'idempotent');
});
