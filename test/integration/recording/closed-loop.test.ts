// The closed loop through the operator itself: a pod recorded with the eBPF recorder, its profile bound to the
// same image with a ProfileBinding, and the binding webhook putting new pods of that image under it. The
// workload runs to completion under what was recorded; a copy of the profile without the one call only the
// workload makes (mkdir) makes the same workload fail. Recorder and daemon are this test's own (setUp); the
// webhook and manager are the operator's processes (`ensureOperator`), left running if they already ran.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import t from 'tap';
import { createNamespace, deleteNamespace, waitFor } from '../../helpers/cluster.js';
import { ensureOperator, stopOperator } from '../../env/operator.js';
import type { SeccompProfile } from '../../../src/profiles/types.js';
import {
  allowed,
  createRecording,
  demoContainer,
  type Env,
  GROUP,
  recordedMeta,
  setUp,
  skipUnlessReady,
  waitProfile,
} from './helpers.js';

const IMAGE = 'localhost/spo-test/demo:1';
/** The trigger: a call nothing else in the container makes (the runtime, the demo program's start-up). */
const WORKLOAD = ['mkdir', '/tmp/made-by-workload', '--', 'echo', 'done'];
const MKDIR = new Set(['mkdir', 'mkdirat']);

type Phase = 'Succeeded' | 'Failed';

function finished(env: Env, namespace: string, name: string): Promise<V1Pod> {
  return waitFor(
    async () => {
      const p = await env.cluster.core.readNamespacedPod({ name, namespace });
      const phase = p.status?.phase as Phase | undefined;
      return phase === 'Succeeded' || phase === 'Failed' ? p : undefined;
    },
    { what: `pod ${namespace}/${name} to finish`, timeoutMs: 90_000 },
  );
}

async function createProfile(env: Env, namespace: string, name: string, spec: SeccompProfile['spec']) {
  await env.custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1beta1',
    plural: 'seccompprofiles',
    namespace,
    body: { apiVersion: `${GROUP}/v1beta1`, kind: 'SeccompProfile', metadata: { name, namespace }, spec },
  });
}

async function bind(env: Env, namespace: string, profile: string): Promise<void> {
  await env.custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1alpha1',
    plural: 'profilebindings',
    namespace,
    body: {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ProfileBinding',
      metadata: { name: `${profile}-binding`, namespace },
      spec: { profileRef: { kind: 'SeccompProfile', name: profile }, image: IMAGE },
    },
  });
  // Before the profile is on the node a bound pod could not start at all, which is not what is tested here.
  const file = join(env.cluster.kubeletDir, 'seccomp/operator', namespace, `${profile}.json`);
  await waitFor(() => existsSync(file), { what: `${file} on the node`, timeoutMs: 60_000 });
}

/**
 * A pod of the image with no securityContext, created until the binding webhook has the binding (the manager
 * labels the namespace, the webhook's cache catches up): the pod that got the profile is returned.
 */
async function boundPod(env: Env, namespace: string, profile: string): Promise<V1Pod> {
  const want = `operator/${namespace}/${profile}.json`;
  return waitFor(
    async () => {
      const created = await env.cluster.core.createNamespacedPod({
        namespace,
        body: {
          metadata: { generateName: 'workload-', namespace },
          spec: {
            restartPolicy: 'Never',
            terminationGracePeriodSeconds: 1,
            containers: [demoContainer('demo', WORKLOAD)],
          },
        },
      });
      const got = created.spec?.containers[0]?.securityContext?.seccompProfile;
      if (got?.type === 'Localhost' && got.localhostProfile === want) return created;
      await env.cluster.core.deleteNamespacedPod({
        name: created.metadata?.name ?? '',
        namespace,
        gracePeriodSeconds: 0,
      });
      throw new Error(`pod ${created.metadata?.name} was created with ${JSON.stringify(got ?? null)}`);
    },
    { what: `a pod of ${IMAGE} in ${namespace} bound to ${profile}`, timeoutMs: 60_000 },
  );
}

async function logsOf(env: Env, namespace: string, pod: V1Pod): Promise<string> {
  return env.cluster.core.readNamespacedPodLog({
    name: pod.metadata?.name ?? '',
    namespace,
    container: 'demo',
  });
}

t.test(
  'closed loop: the recorded profile, bound by image, runs its workload; without mkdir it fails',
  async (t) => {
    if (skipUnlessReady(t)) return;
    const env = await setUp(t);
    if (env === undefined) return;
    const { started } = await ensureOperator(env.cluster.kc);
    const denyNs = await createNamespace(env.cluster, 'rec-deny');
    t.teardown(async () => {
      await deleteNamespace(env.cluster, denyNs);
      // One a developer started (SPO_DEV_OPERATOR=1 scripts/dev up) is left running.
      if (started.length > 0) await stopOperator();
    });

    await createRecording(env, 'loop');
    await env.cluster.core.createNamespacedPod({
      namespace: env.ns,
      body: {
        metadata: { name: 'loop', namespace: env.ns, ...recordedMeta('loop', ['demo']) },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 1,
          containers: [demoContainer('demo', WORKLOAD)],
        },
      },
    });
    const recordedRun = await finished(env, env.ns, 'loop');
    t.equal(recordedRun.status?.phase, 'Succeeded', 'the recorded workload ran to completion');
    const recorded = await waitProfile(env, 'loop-demo');
    const names = allowed(recorded);
    const trigger = names.filter((n) => MKDIR.has(n));
    t.ok(trigger.length > 0, `loop-demo allows mkdir (${trigger.join(', ')}; ${names.length} syscalls)`);

    await t.test('bound to the recorded profile, the workload runs to completion', async (t) => {
      await bind(env, env.ns, 'loop-demo');
      const pod = await boundPod(env, env.ns, 'loop-demo');
      const done = await finished(env, env.ns, pod.metadata?.name ?? '');
      const state = done.status?.containerStatuses?.[0]?.state?.terminated;
      t.equal(done.status?.phase, 'Succeeded', `${pod.metadata?.name} Succeeded under loop-demo`);
      t.equal(state?.exitCode, 0, 'exit code 0');
      t.match(await logsOf(env, env.ns, done), /demo: mkdir ok/, 'its mkdir succeeded');
    });

    await t.test('bound to a copy without mkdir, the same workload fails at mkdir', async (t) => {
      const spec: SeccompProfile['spec'] = {
        ...recorded.spec,
        syscalls: (recorded.spec.syscalls ?? []).map((s) => ({
          ...s,
          names: s.names.filter((n) => !MKDIR.has(n)),
        })),
      };
      t.notOk(
        allowed({ ...recorded, spec }).some((n) => MKDIR.has(n)),
        'the copy allows no mkdir',
      );
      await createProfile(env, denyNs, 'loop-demo-without-mkdir', spec);
      await bind(env, denyNs, 'loop-demo-without-mkdir');
      const pod = await boundPod(env, denyNs, 'loop-demo-without-mkdir');
      const done = await finished(env, denyNs, pod.metadata?.name ?? '');
      const state = done.status?.containerStatuses?.[0]?.state?.terminated;
      t.equal(done.status?.phase, 'Failed', `${pod.metadata?.name} Failed under the copy`);
      t.equal(state?.exitCode, 1, 'the demo program exited 1: a step failed, not the runtime');
      t.match(
        await logsOf(env, denyNs, done),
        /demo: mkdir: Operation not permitted/,
        'mkdir was denied with EPERM',
      );
    });
  },
);
