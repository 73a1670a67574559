// Kill -9 the recorder and the daemon in the middle of a recording: the profile still holds what the workload
// did before and after (the recorder saves what it drained; the pod's finalizer keeps the daemon's work), and
// what it did while the recorder was dead (the program and its maps stay pinned in bpffs).
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
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

  env.recorder = startRecorder(env.socket, env.stateDir, env.pinDir);
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

/** The saved state holds every one of `containers` of the pod with its key (what a restart restores). */
function stateHas(env: { stateDir: string }, pod: V1Pod, containers: readonly string[]): boolean {
  const state = JSON.parse(readFileSync(`${env.stateDir}/state.json`, 'utf8')) as {
    containers: { key?: string }[];
  };
  const keys = new Set(state.containers.map((c) => c.key));
  return containers.every((c) => keys.has(`${pod.metadata?.namespace}/${pod.metadata?.uid}/${c}`));
}

t.test('syscalls made only while the recorder is dead are in the profile', async (t) => {
  if (skipUnlessReady(t)) return;
  const env = await setUp(t);
  if (env === undefined) return;
  await createRecording(env, 'down');
  // both make their one mkdir only once released, which happens while no recorder process runs; "gone" exits
  // right after, so the restarted recorder cannot find it any more and must take its syscalls from the map
  const pod = await createPodAndWait(env.cluster, {
    metadata: { name: 'down', namespace: env.ns, ...recordedMeta('down', ['live', 'gone']) },
    spec: {
      restartPolicy: 'Never',
      containers: [
        demoContainer('live', ['wait-file', '/tmp/go', '--', 'mkdir', '/tmp/x', '--', 'pause']),
        demoContainer('gone', ['wait-file', '/tmp/go', '--', 'mkdir', '/tmp/x', '--', 'exit', '0']),
      ],
    },
  });
  await waitTracked(env, 'down', 2);
  await waitFor(async () => stateHas(env, pod, ['live', 'gone']) || undefined, {
    what: 'recorder state saved with both containers',
  });
  const livePid = await (async () => {
    const { containerHostPid, criClient } = await import('../../helpers/cri.js');
    const cri = criClient();
    try {
      return await containerHostPid(cri, pod, 'live');
    } finally {
      cri.close();
    }
  })();

  await kill9(env.recorder);
  await release(pod, 'live');
  await release(pod, 'gone');
  await waitFor(async () => existsSync(`/proc/${livePid}/root/tmp/x`) || undefined, {
    what: 'the live container to mkdir',
  });
  await waitFor(
    async () => {
      const p = await env.cluster.core.readNamespacedPod({ name: 'down', namespace: env.ns });
      const gone = p.status?.containerStatuses?.find((c) => c.name === 'gone');
      return gone?.state?.terminated?.exitCode === 0 || undefined;
    },
    { what: 'the gone container to mkdir and exit' },
  );

  env.recorder = startRecorder(env.socket, env.stateDir, env.pinDir);
  await env.recorder.waitForLog(isMsg('recorder listening'), 120_000);
  t.ok(
    env.recorder.lines.some((l) => l.msg?.toString().startsWith('adopted the pinned eBPF link')),
    'the restarted recorder adopted the pinned link',
  );
  await env.cluster.core.deleteNamespacedPod({ name: 'down', namespace: env.ns });
  for (const container of ['live', 'gone']) {
    const names = allowed(await waitProfile(env, `down-${container}`));
    t.ok(
      names.includes('mkdir') || names.includes('mkdirat'),
      `${container}: the mkdir made while the recorder was dead`,
    );
  }
});
