import t from 'tap';
import {
  bareContainerId,
  fromEnricher,
  isReplica,
  planPod,
  profileName,
  type RecordedPod,
  recordedContainers,
  withFinalizer,
} from '../../../src/daemon/recording-plan.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

function pod(extra: Partial<RecordedPod['metadata']> = {}, status: RecordedPod['status'] = {}): RecordedPod {
  return {
    metadata: {
      name: 'p',
      namespace: 'ns',
      uid: 'u1',
      annotations: {
        'io.containers.trace-bpf/web': 'rec',
        'io.containers.trace-bpf/init': 'rec',
        other: 'x',
      },
      ...extra,
    },
    status,
  };
}

t.test('recordedContainers reads trace-bpf and trace-logs annotations, sorted', async (t) => {
  t.same(recordedContainers(pod()), [
    { container: 'init', recording: 'rec', recorder: 'bpf' },
    { container: 'web', recording: 'rec', recorder: 'bpf' },
  ]);
  t.same(recordedContainers(pod({ annotations: { 'io.containers.trace-logs/web': 'rec' } })), [
    { container: 'web', recording: 'rec', recorder: 'logs' },
  ]);
  t.same(recordedContainers(pod({ annotations: { 'io.containers.trace-bpf/web': '' } })), []);
  t.same(
    recordedContainers(
      pod({
        annotations: {
          'io.containers.trace-logs/web': 'a',
          'io.containers.trace-bpf/web': 'b',
          'io.containers.trace-logs/db': 'a',
        },
      }),
    ),
    [
      { container: 'db', recording: 'a', recorder: 'logs' },
      { container: 'web', recording: 'b', recorder: 'bpf' },
    ],
    'a container annotated both ways (by hand) is recorded with bpf, whatever the order',
  );
});

t.test('planPod: logs containers are never tracked; recorders the daemon lacks are left alone', async (t) => {
  const logs = pod(
    { annotations: { 'io.containers.trace-logs/web': 'rec', 'io.containers.trace-bpf/init': 'rec' } },
    {
      phase: 'Running',
      initContainerStatuses: [{ name: 'init', containerID: `containerd://${A}`, state: { terminated: {} } }],
      containerStatuses: [{ name: 'web', containerID: `containerd://${C}`, state: { running: {} } }],
    },
  );
  t.match(planPod(logs), {
    action: 'record',
    recorded: [
      { container: 'init', recorder: 'bpf' },
      { container: 'web', recorder: 'logs' },
    ],
    track: [{ containerId: A, key: 'ns/u1/init' }],
  });
  t.same(planPod(logs, new Set(['logs']))?.recorded, [
    { container: 'web', recording: 'rec', recorder: 'logs' },
  ]);
  t.same(planPod(logs, new Set(['logs']))?.track, [], 'no recorder: nothing to track');
  t.same(planPod(logs, new Set(['bpf']))?.recorded, [
    { container: 'init', recording: 'rec', recorder: 'bpf' },
  ]);
  t.equal(
    planPod(pod(), new Set(['logs'])),
    undefined,
    "a bpf-only pod is not this daemon's without a recorder",
  );
  t.equal(planPod(logs, new Set()), undefined);
});

t.test('fromEnricher: one set of names over the architectures seen', async (t) => {
  t.equal(fromEnricher([]), undefined, 'nothing recorded');
  t.equal(fromEnricher([{ architectures: [{ arch: 'x86_64', syscalls: [] }] }]), undefined);
  t.same(
    fromEnricher([
      { architectures: [{ arch: 'x86_64', syscalls: ['read', 'mkdir'] }] },
      {
        architectures: [
          { arch: 'aarch64', syscalls: ['read', 'mkdirat'] },
          { arch: 'i386', syscalls: ['socketcall'] },
        ],
      },
    ]),
    {
      arches: ['x86_64', 'aarch64'],
      syscalls: ['mkdir', 'mkdirat', 'read'],
      warnings: ['syscalls of architecture i386 left out: no table for it'],
    },
  );
});

t.test('planPod', async (t) => {
  const cases: { name: string; pod: RecordedPod; want: unknown }[] = [
    { name: 'not recorded', pod: pod({ annotations: {} }), want: undefined },
    {
      name: 'pending, no ids yet',
      pod: pod({}, { phase: 'Pending' }),
      want: { action: 'record', track: [] },
    },
    {
      name: 'init containers too; restarted containers keep their old id; unrecorded ones skipped',
      pod: pod(
        {},
        {
          phase: 'Running',
          initContainerStatuses: [
            { name: 'init', containerID: `containerd://${A}`, state: { terminated: {} } },
          ],
          containerStatuses: [
            {
              name: 'web',
              containerID: `containerd://${C}`,
              state: { running: {} },
              lastState: { terminated: { containerID: `containerd://${B}` } },
            },
            { name: 'sidecar', containerID: 'containerd://dd', state: { running: {} } },
          ],
        },
      ),
      want: {
        action: 'record',
        track: [
          { containerId: A, key: 'ns/u1/init' },
          { containerId: B, key: 'ns/u1/web' },
          { containerId: C, key: 'ns/u1/web' },
        ],
      },
    },
    { name: 'succeeded', pod: pod({}, { phase: 'Succeeded' }), want: { action: 'collect' } },
    { name: 'failed', pod: pod({}, { phase: 'Failed' }), want: { action: 'collect' } },
    {
      name: 'deleting with a container still running: wait',
      pod: pod(
        { deletionTimestamp: 'now' },
        { phase: 'Running', containerStatuses: [{ name: 'web', state: { running: {} } }] },
      ),
      want: { action: 'record' },
    },
    {
      name: 'deleting and nothing runs: collect',
      pod: pod(
        { deletionTimestamp: 'now' },
        { phase: 'Running', containerStatuses: [{ name: 'web', state: { terminated: {} } }] },
      ),
      want: { action: 'collect' },
    },
  ];
  for (const c of cases) {
    const got = planPod(c.pod);
    if (c.want === undefined) t.equal(got, undefined, c.name);
    else t.match(got, c.want, c.name);
  }
});

t.test('profileName: single pod, replicas and partials', async (t) => {
  t.equal(profileName('rec', 'nginx', false, new Set(['rec-nginx'])), 'rec-nginx', 're-recording overwrites');
  t.equal(profileName('rec', 'nginx', true, new Set()), 'rec-nginx-0');
  t.equal(
    profileName('rec', 'nginx', true, new Set(['rec-nginx-0', 'rec-nginx-2'])),
    'rec-nginx-1',
    'lowest free',
  );
  t.ok(isReplica(pod({ ownerReferences: [{ controller: true }] })));
  t.notOk(isReplica(pod({ ownerReferences: [{ controller: false }] })));
  t.notOk(isReplica(pod()));
});

t.test('helpers', async (t) => {
  t.equal(bareContainerId(`cri-o://${A}`), A);
  t.equal(bareContainerId(A), A);
  t.same(withFinalizer(undefined, 'f', true), ['f']);
  t.equal(withFinalizer(['f'], 'f', true), undefined);
  t.same(withFinalizer(['x', 'f'], 'f', false), ['x']);
  t.equal(withFinalizer(['x'], 'f', false), undefined);
});
