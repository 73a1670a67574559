// disableProfileAfterRecording: the recorded profile is created for review but installed on no node until
// someone removes its spo.x-k8s.io/disabled label; the node status (and the manager's roll-up) say Disabled.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import t from 'tap';
import { createPodAndWait, waitFor } from '../../helpers/cluster.js';
import { ensureOperator, stopOperator } from '../../env/operator.js';
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
  waitTracked,
} from './helpers.js';

async function nodeStatus(env: Env, profile: string): Promise<string | undefined> {
  try {
    const s = (await env.custom.getNamespacedCustomObject({
      group: GROUP,
      version: 'v1alpha1',
      plural: 'securityprofilenodestatuses',
      namespace: env.ns,
      name: `${profile}-${env.cluster.nodeName}`,
    })) as { status?: string };
    return s.status;
  } catch {
    return undefined;
  }
}

t.test('disableProfileAfterRecording: created, labelled, installed nowhere until enabled', async (t) => {
  if (skipUnlessReady(t)) return;
  const env = await setUp(t);
  if (env === undefined) return;
  const { started } = await ensureOperator(env.cluster.kc);
  t.teardown(async () => {
    if (started.length > 0) await stopOperator();
  });
  // the seed's ProfileRecording fields, with the flag set
  await createRecording(env, 'off', { disableProfileAfterRecording: true });
  await createPodAndWait(env.cluster, {
    metadata: { name: 'off', namespace: env.ns, ...recordedMeta('off', ['demo']) },
    spec: { restartPolicy: 'Never', containers: [demoContainer('demo', ['mkdir', '/tmp/x', '--', 'pause'])] },
  });
  await waitTracked(env, 'off');
  await env.cluster.core.deleteNamespacedPod({ name: 'off', namespace: env.ns });

  const profile = await waitProfile(env, 'off-demo');
  t.ok(allowed(profile).includes('mkdir'), 'recorded as usual');
  t.equal(profile.metadata.labels?.['spo.x-k8s.io/disabled'], 'true', 'labelled disabled');
  await waitFor(async () => (await nodeStatus(env, 'off-demo')) === 'Disabled', {
    what: 'node status Disabled',
  });
  const file = join(env.cluster.kubeletDir, 'seccomp/operator', env.ns, 'off-demo.json');
  t.notOk(existsSync(file), 'not written to the node');
  const rolled = await waitFor(
    async () => {
      const p = (await waitProfile(env, 'off-demo')) as {
        status?: { status?: string; conditions?: unknown[] };
      };
      return p.status?.status === 'Disabled' ? p.status : undefined;
    },
    { what: 'profile status Disabled' },
  );
  t.match(
    rolled.conditions,
    [{ type: 'Ready', status: 'False', reason: 'Unavailable', message: /disabled/ }],
    'the manager rolls it up as Disabled, not Ready, and says how to enable it',
  );
  const events = await env.cluster.core.listNamespacedEvent({ namespace: env.ns });
  t.ok(
    events.items.some(
      (e) =>
        e.involvedObject.name === 'off-demo' &&
        e.reason === 'SeccompProfileCreated' &&
        /disabled/.test(e.message ?? ''),
    ),
    'the created event says it is disabled and how to enable it',
  );

  await env.custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: 'v1beta1',
      plural: 'seccompprofiles',
      namespace: env.ns,
      name: 'off-demo',
      body: { metadata: { labels: { 'spo.x-k8s.io/disabled': null } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await waitFor(() => existsSync(file), { what: `${file} written once enabled` });
  await waitFor(async () => (await nodeStatus(env, 'off-demo')) === 'Installed', {
    what: 'node status Installed',
  });
  await waitFor(
    async () => {
      const p = (await waitProfile(env, 'off-demo')) as { status?: { status?: string } };
      return p.status?.status === 'Installed';
    },
    { what: 'profile status Installed' },
  );
  t.pass('enabled by removing the label: written and Installed');
});
