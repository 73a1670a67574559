import { existsSync } from 'node:fs';
import t from 'tap';
import { createPodAndWait } from '../../helpers/cluster.js';
import { containerHostPid, criClient } from '../../helpers/cri.js';
import {
  allowed,
  createRecording,
  demoContainer,
  recordedMeta,
  release,
  setUp,
  skipUnlessReady,
  waitProfile,
  waitTracked,
} from './helpers.js';

t.test('single pod: <rec>-<ctr> holds the syscall only the workload makes', async (t) => {
  if (skipUnlessReady(t)) return;
  const env = await setUp(t);
  if (env === undefined) return;
  await createRecording(env, 'my-recording');
  const pod = await createPodAndWait(env.cluster, {
    metadata: { name: 'my-pod', namespace: env.ns, ...recordedMeta('my-recording', ['demo']) },
    spec: {
      restartPolicy: 'Never',
      containers: [demoContainer('demo', ['wait-file', '/tmp/go', '--', 'mkdir', '/tmp/x', '--', 'pause'])],
    },
  });
  await waitTracked(env, 'my-pod');
  await release(pod, 'demo');
  const cri = criClient();
  const pid = await containerHostPid(cri, pod, 'demo');
  cri.close();
  await t.resolves(
    import('../../env/wait.js').then(({ waitFor }) =>
      waitFor(() => existsSync(`/proc/${pid}/root/tmp/x`), { what: 'the workload to mkdir' }),
    ),
  );

  await env.cluster.core.deleteNamespacedPod({ name: 'my-pod', namespace: env.ns });
  const profile = await waitProfile(env, 'my-recording-demo');
  const names = allowed(profile);
  t.ok(names.includes('mkdir') || names.includes('mkdirat'), 'mkdir is allowed');
  t.equal(profile.spec.defaultAction, 'SCMP_ACT_ERRNO');
  t.same(profile.spec.architectures, ['SCMP_ARCH_X86_64']);
  t.same(names, [...names].sort(), 'allow list sorted');
  t.match(profile.metadata.labels, {
    'spo.x-k8s.io/recording-id': 'my-recording',
    'spo.x-k8s.io/container-id': 'demo',
  });
  t.notOk(profile.metadata.labels?.['spo.x-k8s.io/partial'], 'not partial');
  t.comment(`my-recording-demo allows ${names.length} syscalls`);

  const events = await env.cluster.core.listNamespacedEvent({ namespace: env.ns });
  const reasons = events.items.map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}:${e.reason}`);
  t.ok(reasons.includes('Pod/my-pod:SeccompProfileRecording'), 'recording event on the pod');
  t.ok(
    reasons.includes('SeccompProfile/my-recording-demo:SeccompProfileCreated'),
    'created event on the profile',
  );
});
