// The seed's flows beyond a single pod, against one recorder and one daemon.
import t from 'tap';
import { createPodAndWait, waitFor } from '../../helpers/cluster.js';
import {
  allowed,
  createRecording,
  demoContainer,
  listProfiles,
  recordedMeta,
  setUp,
  skipUnlessReady,
  waitProfile,
  waitTracked,
} from './helpers.js';

t.test('recording flows', async (t) => {
  if (skipUnlessReady(t)) return;
  const env = await setUp(t);
  if (env === undefined) return;

  t.test('two containers in one pod: two profiles', async (t) => {
    await createRecording(env, 'recording');
    await createPodAndWait(env.cluster, {
      metadata: { name: 'two', namespace: env.ns, ...recordedMeta('recording', ['nginx', 'redis']) },
      spec: {
        restartPolicy: 'Never',
        containers: [
          demoContainer('nginx', ['mkdir', '/tmp/a', '--', 'pause']),
          demoContainer('redis', ['uname', '--', 'pause']),
        ],
      },
    });
    await waitTracked(env, 'two', 2);
    await env.cluster.core.deleteNamespacedPod({ name: 'two', namespace: env.ns });
    const nginx = await waitProfile(env, 'recording-nginx');
    const redis = await waitProfile(env, 'recording-redis');
    t.ok(allowed(nginx).includes('mkdir'), 'nginx made the directory');
    t.notOk(allowed(redis).includes('mkdir'), 'redis did not');
    t.ok(allowed(redis).includes('uname'), 'redis called uname');
  });

  t.test('containers: only the listed container is recorded (as the webhook annotates)', async (t) => {
    await createRecording(env, 'limited', { containers: ['first'] });
    await createPodAndWait(env.cluster, {
      metadata: { name: 'limited', namespace: env.ns, ...recordedMeta('limited', ['first']) },
      spec: {
        restartPolicy: 'Never',
        containers: [demoContainer('first', ['pause']), demoContainer('second', ['pause'])],
      },
    });
    await waitTracked(env, 'limited', 1);
    await env.cluster.core.deleteNamespacedPod({ name: 'limited', namespace: env.ns });
    await waitProfile(env, 'limited-first');
    await waitFor(
      () =>
        env.cluster.core.readNamespacedPod({ name: 'limited', namespace: env.ns }).then(
          () => false,
          () => true,
        ),
      { what: 'pod limited gone' },
    );
    const names = (await listProfiles(env))
      .map((p) => p.metadata.name)
      .filter((n) => n.startsWith('limited'));
    t.same(names, ['limited-first']);
  });

  t.test('a Deployment of 3 replicas: <rec>-<ctr>-0..2', async (t) => {
    await createRecording(env, 'deploy');
    const meta = recordedMeta('deploy', ['nginx']);
    await env.cluster.apps.createNamespacedDeployment({
      namespace: env.ns,
      body: {
        metadata: { name: 'my-deployment', namespace: env.ns },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'deploy' } },
          template: {
            metadata: meta,
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [demoContainer('nginx', ['uname', '--', 'pause'])],
            },
          },
        },
      },
    });
    await waitFor(
      async () => {
        const n = env.daemon.lines.filter(
          (l) => l.msg === 'tracking container' && String(l.pod).startsWith('my-deployment-'),
        ).length;
        return n >= 3;
      },
      { what: '3 replicas tracked', timeoutMs: 120_000 },
    );
    await env.cluster.apps.deleteNamespacedDeployment({
      name: 'my-deployment',
      namespace: env.ns,
      propagationPolicy: 'Foreground',
    });
    for (const n of [0, 1, 2]) {
      const p = await waitProfile(env, `deploy-nginx-${n}`, 120_000);
      t.ok(allowed(p).includes('uname'), `deploy-nginx-${n} has uname`);
    }
    t.notOk(
      (await listProfiles(env)).some(
        (p) => p.metadata.name === 'deploy-nginx' || p.metadata.name === 'deploy-nginx-3',
      ),
      'exactly three',
    );
  });
});
