import t from 'tap';
import { planMerge } from '../../../src/manager/recording-merge.js';
import type { SeccompProfile } from '../../../src/profiles/types.js';

function partial(name: string, container: string, names: string[], recording = 'rec'): SeccompProfile {
  return {
    apiVersion: 'security-profiles-operator.x-k8s.io/v1beta1',
    kind: 'SeccompProfile',
    metadata: {
      name,
      namespace: 'ns',
      labels: {
        'spo.x-k8s.io/recording-id': recording,
        'spo.x-k8s.io/container-id': container,
        'spo.x-k8s.io/partial': 'true',
      },
    },
    spec: {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }],
    },
  };
}

t.test('planMerge folds partials per container into <rec>-<ctr>', async (t) => {
  const plan = planMerge('rec', 'ns', [
    partial('rec-web-1', 'web', ['read', 'uname']),
    partial('rec-web-0', 'web', ['mkdir', 'read']),
    partial('rec-db-0', 'db', ['write']),
    partial('other-web-0', 'web', ['ptrace'], 'other'),
  ]);
  t.same(
    plan.merged.map((p) => [p.metadata.name, p.metadata.labels, p.spec.syscalls]),
    [
      [
        'rec-db',
        { 'spo.x-k8s.io/recording-id': 'rec', 'spo.x-k8s.io/container-id': 'db' },
        [{ names: ['write'], action: 'SCMP_ACT_ALLOW' }],
      ],
      [
        'rec-web',
        { 'spo.x-k8s.io/recording-id': 'rec', 'spo.x-k8s.io/container-id': 'web' },
        [{ names: ['mkdir', 'read', 'uname'], action: 'SCMP_ACT_ALLOW' }],
      ],
    ],
  );
  t.same(plan.partials, ['rec-db-0', 'rec-web-0', 'rec-web-1']);
  t.same(planMerge('rec', 'ns', []), { merged: [], partials: [] });
});

t.test(
  'planMerge: partials of a recording with disableProfileAfterRecording merge into a disabled profile',
  async (t) => {
    const off = (p: SeccompProfile): SeccompProfile => ({
      ...p,
      metadata: { ...p.metadata, labels: { ...p.metadata.labels, 'spo.x-k8s.io/disabled': 'true' } },
    });
    const plan = planMerge('rec', 'ns', [
      off(partial('rec-web-0', 'web', ['read'])),
      partial('rec-db-0', 'db', ['write']),
    ]);
    t.same(
      plan.merged.map((p) => [p.metadata.name, p.metadata.labels?.['spo.x-k8s.io/disabled']]),
      [
        ['rec-db', undefined],
        ['rec-web', 'true'],
      ],
    );
    t.notOk(plan.merged[1]?.metadata.labels?.['spo.x-k8s.io/partial'], 'no longer partial');
  },
);
