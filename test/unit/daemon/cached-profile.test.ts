import t from 'tap';
import { cachedProfile } from '../../../src/daemon/cached-profile.js';
import type { SeccompProfile } from '../../../src/profiles/types.js';

const spec = {
  defaultAction: 'SCMP_ACT_ERRNO',
  baseProfileName: 'runc-v1.1.5',
  syscalls: [{ action: 'SCMP_ACT_ALLOW', names: ['read', 'write'] }],
} as SeccompProfile['spec'];

t.test('keeps spec, identity, labels, generation and deletion; drops status and annotations', async (t) => {
  const stored = {
    apiVersion: 'security-profiles-operator.x-k8s.io/v1beta1',
    kind: 'SeccompProfile',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '7',
      generation: 2,
      creationTimestamp: '2026-11-22T06:00:00Z',
      deletionTimestamp: '2026-11-22T06:10:00Z',
      labels: { 'spo.x-k8s.io/partial': 'true' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ spec }) },
      finalizers: ['in-use-by-active-pods'],
    },
    spec,
    status: { status: 'Installed', activeWorkloads: ['shop/web-1'] },
  } as unknown as SeccompProfile;
  const cached = cachedProfile(stored);
  t.strictSame(cached, {
    apiVersion: 'security-profiles-operator.x-k8s.io/v1beta1',
    kind: 'SeccompProfile',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '7',
      generation: 2,
      deletionTimestamp: '2026-11-22T06:10:00Z',
      labels: { 'spo.x-k8s.io/partial': 'true' },
    },
    spec,
  });
  t.equal(cached.spec, stored.spec, 'the spec is kept as it is, not copied');
  t.strictSame(cachedProfile(cached), cached, 'idempotent: the informer may apply it twice');
});

t.test('a minimal profile stays minimal', async (t) => {
  const cached = cachedProfile({ metadata: { name: 'p' }, spec } as SeccompProfile);
  t.strictSame(cached, { metadata: { name: 'p' }, spec });
  t.notOk('apiVersion' in cached);
  t.notOk('namespace' in cached.metadata);
});
