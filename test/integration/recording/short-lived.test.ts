// A container that is over in well under a second: its mount namespace has to be tied to the container while
// it exists (the recorder reacts to the container's cgroup appearing), or its syscalls cannot be attributed.
// The recorder drains every 2 s here, so the pass over /proc that follows a drain could never find these
// containers alive: only the cgroup watch can have caught them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import t from 'tap';
import { waitFor } from '../../helpers/cluster.js';
import {
  allowed,
  createRecording,
  demoContainer,
  type Env,
  recordedMeta,
  setUp,
  skipUnlessReady,
  waitProfile,
} from './helpers.js';

const ROUNDS = 3;

function finished(env: Env, name: string): Promise<V1Pod> {
  return waitFor(
    async () => {
      const p = await env.cluster.core.readNamespacedPod({ name, namespace: env.ns });
      return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
    },
    { what: `pod ${name} to finish`, timeoutMs: 90_000 },
  );
}

t.test('short-lived pods: each profile holds the syscall only its workload makes', async (t) => {
  if (skipUnlessReady(t)) return;
  const env = await setUp(t, { recorderArgs: ['--drain-ms', '2000'] });
  if (env === undefined) return;
  for (let i = 0; i < ROUNDS; i++) {
    const name = `short-${i}`;
    await createRecording(env, name);
    await env.cluster.core.createNamespacedPod({
      namespace: env.ns,
      body: {
        metadata: { name, namespace: env.ns, ...recordedMeta(name, ['demo']) },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 1,
          containers: [demoContainer('demo', ['mkdir', `/tmp/x${i}`, '--', 'exit', '0'])],
        },
      },
    });
    const done = await finished(env, name);
    t.equal(done.status?.phase, 'Succeeded', `${name} succeeded`);
    const state = done.status?.containerStatuses?.[0]?.state?.terminated;
    const ran =
      state?.startedAt && state.finishedAt
        ? new Date(state.finishedAt).getTime() - new Date(state.startedAt).getTime()
        : Number.NaN;
    t.comment(`${name}: container ran ${ran} ms (kubelet's second-resolution timestamps)`);
    const profile = await waitProfile(env, `${name}-demo`);
    const names = allowed(profile);
    t.ok(names.includes('mkdir'), `${name}-demo allows mkdir (${names.length} syscalls)`);
    t.equal(profile.metadata.labels?.['spo.x-k8s.io/recording-id'], name, 'labelled with its recording');
    const tracked = env.daemon.lines.find((l) => l.msg === 'tracking container' && l.pod === name);
    t.equal(tracked?.method, 'watched', `${name}: caught when its cgroup appeared`);

    // closed loop: the same workload, unrecorded, under the profile it produced
    const file = join(env.cluster.kubeletDir, 'seccomp/operator', env.ns, `${name}-demo.json`);
    await waitFor(() => existsSync(file), { what: `${file} on the node` });
    const replay = `${name}-replay`;
    await env.cluster.core.createNamespacedPod({
      namespace: env.ns,
      body: {
        metadata: { name: replay, namespace: env.ns },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              ...demoContainer('demo', ['mkdir', `/tmp/x${i}`, '--', 'exit', '0']),
              securityContext: {
                seccompProfile: {
                  type: 'Localhost',
                  localhostProfile: `operator/${env.ns}/${name}-demo.json`,
                },
              },
            },
          ],
        },
      },
    });
    const again = await finished(env, replay);
    t.equal(
      again.status?.containerStatuses?.[0]?.state?.terminated?.exitCode,
      0,
      `${replay} runs to completion under ${name}-demo`,
    );
  }
});
