import t from 'tap';
import { profileKeyFromLocalhost, profilesUsedByPod } from '../../../src/manager/profile-usage.js';

const localhost = (p: string) => ({ seccompProfile: { type: 'Localhost', localhostProfile: p } });

t.test('every place a pod can name a profile', async (t) => {
  const pod = {
    metadata: {
      annotations: {
        'seccomp.security.alpha.kubernetes.io/pod': 'localhost/operator/my-namespace/legacy-pod.json',
        'container.seccomp.security.alpha.kubernetes.io/app':
          'localhost/operator/my-namespace/legacy-ctr.json',
        'container.seccomp.security.alpha.kubernetes.io/other': 'runtime/default',
      },
    },
    spec: {
      securityContext: localhost('operator/my-namespace/pod-level.json'),
      containers: [{ securityContext: localhost('operator/my-namespace/ctr.json') }, {}],
      initContainers: [{ securityContext: localhost('operator/my-namespace/init.json') }],
      ephemeralContainers: [{ securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }],
    },
  };
  t.same(
    [...profilesUsedByPod(pod)].sort(),
    ['legacy-ctr', 'legacy-pod', 'pod-level', 'ctr', 'init'].map((n) => `my-namespace/${n}`).sort(),
  );
});

t.test('only operator paths count', async (t) => {
  t.equal(profileKeyFromLocalhost('operator/ns/p.json'), 'ns/p');
  t.equal(profileKeyFromLocalhost('my-own/p.json'), undefined);
  t.equal(profileKeyFromLocalhost('operator/ns/../p.json'), undefined);
  t.equal(profileKeyFromLocalhost('operator/ns/p'), undefined);
  t.same([...profilesUsedByPod({})], []);
});
