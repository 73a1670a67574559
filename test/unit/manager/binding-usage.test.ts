import t from 'tap';
import {
  ACTIVE_WORKLOAD_FINALIZER,
  bindingSync,
  bindingUsage,
  type PodWithStatus,
} from '../../../src/manager/binding-usage.js';
import { profileBinding } from '../../helpers/profiles.js';

const ns = 'app';
const pod = (
  name: string,
  containers: Array<[string, string | undefined]>,
  phase = 'Running',
  labels?: Record<string, string>,
): PodWithStatus => ({
  metadata: { name, namespace: ns, ...(labels ? { labels } : {}) },
  spec: {
    containers: containers.map(([image, profile], i) => ({
      name: `c${i}`,
      image,
      ...(profile
        ? {
            securityContext: {
              seccompProfile: { type: 'Localhost', localhostProfile: `operator/${ns}/${profile}.json` },
            },
          }
        : {}),
    })),
  },
  status: { phase },
});

const bindings = [
  profileBinding(ns, 'nginx', 'nginx:1.19.1', 'p-nginx'),
  profileBinding(ns, 'any', '*', 'p-any'),
  profileBinding(ns, 'web-only', 'busybox', 'p-web', { podSelector: { matchLabels: { app: 'web' } } }),
];
const usage = bindingUsage(ns, bindings, [
  pod('a', [['docker.io/library/nginx:1.19.1', 'p-nginx']]),
  pod('b', [['nginx:1.19.1', undefined]]),
  pod('c', [['redis', 'p-any']]),
  pod('d', [['nginx:1.19.1', 'p-nginx']], 'Succeeded'),
  pod('e', [['busybox', 'p-web']], 'Pending', { app: 'web' }),
  pod('f', [['busybox', 'p-web']], 'Running', { app: 'db' }),
  pod('g', [['nginx:1.19.1', 'p-any']]),
]);
t.same(usage.get('nginx'), [`${ns}/a`], 'image binding: only pods whose container runs its profile');
// g runs nginx under the "*" profile (its image binding's profile was missing when it was admitted).
t.same(
  usage.get('any'),
  [`${ns}/c`, `${ns}/g`],
  '"*": containers under its profile that no image binding accounts for',
);
t.same(usage.get('web-only'), [`${ns}/e`], 'podSelector respected; Pending pods count');

const b = profileBinding(ns, 'nginx', 'nginx:1.19.1', 'p-nginx');
t.same(
  bindingSync(b, ['app/a']),
  { activeWorkloads: ['app/a'], finalizers: [ACTIVE_WORKLOAD_FINALIZER] },
  'first user: status and finalizer',
);
const inUse = {
  ...b,
  metadata: { ...b.metadata, finalizers: ['other', ACTIVE_WORKLOAD_FINALIZER] },
  status: { activeWorkloads: ['app/a'] },
};
t.same(bindingSync(inUse, ['app/a']), {}, 'in sync: nothing');
t.same(
  bindingSync(inUse, []),
  { activeWorkloads: [], finalizers: ['other'] },
  'last user gone: status emptied, only our finalizer removed',
);
t.same(bindingSync(b, []), {}, 'unused and unlocked: nothing');
