import type { V1Pod } from '@kubernetes/client-node';
import t from 'tap';
import { bindingUsage, type PodWithStatus } from '../../../src/manager/binding-usage.js';
import { managerPod } from '../../../src/manager/cached-pod.js';
import { profilesUsedByPod } from '../../../src/manager/profile-usage.js';
import { profileBinding } from '../../helpers/profiles.js';

const ns = 'app';
const localhost = (name: string) => ({
  seccompProfile: { type: 'Localhost', localhostProfile: `operator/${ns}/${name}.json` },
});
const busy = {
  env: [{ name: 'SECRET_LOOKING', value: 'x'.repeat(2_000) }],
  resources: { limits: { cpu: '1' } },
  volumeMounts: [{ name: 'data', mountPath: '/data' }],
  readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
};

/** A pod as the apiserver sends it: far more than the manager reads. */
function fullPod(name: string, labels: Record<string, string>, phase: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      uid: `uid-${name}`,
      resourceVersion: '42',
      labels,
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': '{"big":"x"}',
        'seccomp.security.alpha.kubernetes.io/pod': 'localhost/operator/app/legacy-pod.json',
        'container.seccomp.security.alpha.kubernetes.io/web': 'localhost/operator/app/legacy-web.json',
      },
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u' }],
    },
    spec: {
      securityContext: { runAsUser: 1000, ...localhost('pod-level') },
      containers: [
        {
          name: 'web',
          image: 'nginx:1.19.1',
          securityContext: { runAsNonRoot: true, ...localhost('p-nginx') },
          ...busy,
        },
        { name: 'side', image: 'busybox', ...busy },
        { name: 'any', image: 'redis', securityContext: localhost('p-any') },
      ],
      initContainers: [{ name: 'init', image: 'busybox', securityContext: localhost('p-web'), ...busy }],
      ephemeralContainers: [{ name: 'debug', image: 'alpine', securityContext: localhost('debug') }],
      volumes: [{ name: 'data', emptyDir: {} }],
      nodeName: 'node-1',
    },
    status: {
      phase,
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        { name: 'web', image: 'nginx:1.19.1', imageID: 'sha', ready: true, restartCount: 0 },
      ],
    },
  };
}

const pods = [
  fullPod('a', { app: 'web' }, 'Running'),
  fullPod('b', { app: 'db' }, 'Pending'),
  fullPod('c', { app: 'web' }, 'Succeeded'),
];
const slim = pods.map(managerPod);

t.test('the namespace and profile controllers see the same through a cached pod', async (t) => {
  const bindings = [
    profileBinding(ns, 'nginx', 'nginx:1.19.1', 'p-nginx'),
    profileBinding(ns, 'any', '*', 'p-any'),
    profileBinding(ns, 'web-init', 'busybox', 'p-web', { podSelector: { matchLabels: { app: 'web' } } }),
  ];
  const full = bindingUsage(ns, bindings, pods as PodWithStatus[]);
  t.same(bindingUsage(ns, bindings, slim as PodWithStatus[]), full, 'binding usage');
  t.same(full.get('web-init'), [`${ns}/a`], 'the pod selector still sees the labels');
  for (const [i, pod] of pods.entries()) {
    t.same(profilesUsedByPod(slim[i]!), profilesUsedByPod(pod), `profiles used by ${pod.metadata?.name}`);
  }
  t.same(
    [...profilesUsedByPod(slim[0]!)].sort(),
    ['legacy-pod', 'legacy-web', 'pod-level', 'p-nginx', 'p-any', 'p-web', 'debug']
      .map((n) => `${ns}/${n}`)
      .sort(),
    'every place a profile is named is kept',
  );
  t.equal(slim[2]!.status?.phase, 'Succeeded', 'the phase is kept');
});

t.test('what no controller reads is dropped', async (t) => {
  const pod = slim[0]!;
  t.same(pod.metadata, {
    name: 'a',
    namespace: ns,
    uid: 'uid-a',
    resourceVersion: '42',
    labels: { app: 'web' },
    annotations: {
      'seccomp.security.alpha.kubernetes.io/pod': 'localhost/operator/app/legacy-pod.json',
      'container.seccomp.security.alpha.kubernetes.io/web': 'localhost/operator/app/legacy-web.json',
    },
  });
  t.same(pod.spec?.containers[0], {
    name: 'web',
    image: 'nginx:1.19.1',
    ...{ securityContext: localhost('p-nginx') },
  });
  t.same(pod.spec?.containers[1], { name: 'side', image: 'busybox' });
  t.same(pod.spec?.securityContext, localhost('pod-level'), 'only the seccomp profile of the pod context');
  t.same(pod.status, { phase: 'Running' });
  t.notOk(pod.spec?.volumes, 'no volumes');
  t.notOk(pod.spec?.nodeName, 'no node name');
  t.ok(
    JSON.stringify(pod).length * 5 < JSON.stringify(pods[0]).length,
    `a fifth of the size or less (${JSON.stringify(pod).length} of ${JSON.stringify(pods[0]).length} bytes)`,
  );
});

t.test('a pod with nothing to keep stays an identity', async (t) => {
  t.same(managerPod({ metadata: { name: 'x', namespace: ns } }), { metadata: { name: 'x', namespace: ns } });
  t.same(managerPod({ spec: { containers: [{ name: 'c' }] } }), {
    metadata: {},
    spec: { containers: [{ name: 'c' }] },
  });
});
