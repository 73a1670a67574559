// Kill -9 the recorder and the daemon in the middle of a recording: the profile still holds what the workload
// did before and after (the recorder saves what it drained; the pod's finalizer keeps the daemon's work).
import { once } from 'node:events';
import t from 'tap';
import { createPodAndWait, waitFor } from '../../helpers/cluster.js';
import type { RoleProcess } from '../../helpers/role-process.js';
import {
  allowed,
  createRecording,
  demoContainer,
  isMsg,
  recordedMeta,
  release,
  setUp,
  skipUnlessReady,
  startDaemon,
  startRecorder,
  waitProfile,
  waitTracked,
} from './helpers.js';

async function kill9(p: RoleProcess): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = once(p.child, 'exit');
  p.child.kill('SIGKILL');
  await exited;
}

t.test('recorder and daemon killed during a recording: the profile is complete', async (t) => {
  if (skipUnlessReady(t)) return;
  const env = await setUp(t);
  if (env === undefined) return;
  await createRecording(env, 'restart');
  const pod = await createPodAndWait(env.cluster, {
    metadata: { name: 'restart', namespace: env.ns, ...recordedMeta('restart', ['demo']) },
    spec: {
      restartPolicy: 'Never',
      containers: [
        demoContainer('demo', [
          'uname',
          '--',
          'wait-file',
          '/tmp/go',
          '--',
          'mkdir',
          '/tmp/x',
          '--',
          'pause',
        ]),
      ],
    },
  });
  await waitTracked(env, 'restart');
  // the saved state is what survives: wait until it holds the container with its key
  await waitFor(
    async () => {
      const { readFile } = await import('node:fs/promises');
      const state = JSON.parse(await readFile(`${env.stateDir}/state.json`, 'utf8')) as {
        containers: { key?: string; native: number[] }[];
      };
      return state.containers.some((c) => c.key?.endsWith('/demo') && c.native.includes(63)); // uname
    },
    { what: 'recorder state saved with uname' },
  );
  await kill9(env.daemon);
  await kill9(env.recorder);

  env.recorder = startRecorder(env.socket, env.stateDir);
  await env.recorder.waitForLog(isMsg('recorder listening'), 120_000);
  t.ok(
    env.recorder.lines.some((l) => l.msg === 'restored recording' && l.live === true),
    'recording restored live',
  );
  await release(pod, 'demo');
  env.daemon = startDaemon(env.cluster, env.socket);
  await env.daemon.waitForLog(isMsg('recording controller started'), 120_000);

  await waitFor(
    async () => {
      const { existsSync } = await import('node:fs');
      const { containerHostPid, criClient } = await import('../../helpers/cri.js');
      const cri = criClient();
      try {
        return existsSync(`/proc/${await containerHostPid(cri, pod, 'demo')}/root/tmp/x`);
      } finally {
        cri.close();
      }
    },
    { what: 'the workload to mkdir' },
  );
  await env.cluster.core.deleteNamespacedPod({ name: 'restart', namespace: env.ns });
  const profile = await waitProfile(env, 'restart-demo');
  const names = allowed(profile);
  t.ok(names.includes('uname'), 'uname from before the kill');
  t.ok(names.includes('mkdir'), 'mkdir from after the restart');
});
