// `recorder: logs` end to end, as the seed's "Log enricher based recording": the real webhook and manager
// (test/env/operator.ts) mark the seed's two-container pod and run it under the operator's SCMP_ACT_LOG profile,
// the kernel logs every syscall, a real `seccompctl enricher` attributes and keeps them, and the daemon's
// recording controller turns them into <rec>-<ctr> profiles when the pod is over. Then the closed loop: the
// same workload runs to completion under the profiles it produced.
//
// The audit source is chosen explicitly: an audit daemon's log when one runs (the kernel then sends every
// record there and none to /dev/kmsg), else /dev/kmsg with the printk rate limit turned off for the test
// (with it, 10 records per 5 s reach the kernel log: docs/log-enricher.md), restored afterwards.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import t, { type Test } from 'tap';
import {
  type Cluster,
  createNamespace,
  deleteNamespace,
  requireCluster,
  waitFor,
} from '../../helpers/cluster.js';
import { containerHostPid, criClient } from '../../helpers/cri.js';
import { requires, rootMissing } from '../../helpers/prereq.js';
import { type RoleProcess, startRole } from '../../helpers/role-process.js';
import { ensureOperator, OPERATOR_NAMESPACE, stopOperator } from '../../env/operator.js';
import { allowed, demoContainer, GROUP, isMsg, startDaemon } from './helpers.js';
import type { SeccompProfile } from '../../../src/profiles/types.js';
import { EnricherClient } from '../../../src/rpc/enricher-client.js';

const missing = rootMissing() ?? (existsSync('/dev/kmsg') ? undefined : 'needs /dev/kmsg');

/** The pid of the audit daemon the kernel talks to, 0 for none. */
function auditdPid(): number {
  const r = spawnSync('auditctl', ['-s'], { encoding: 'utf8' });
  if (r.status !== 0) return 0;
  return Number(/^pid (\d+)$/m.exec(r.stdout)?.[1] ?? 0);
}

function auditLogFile(): string {
  try {
    const conf = readFileSync('/etc/audit/auditd.conf', 'utf8');
    return /^\s*log_file\s*=\s*(\S+)/m.exec(conf)?.[1] ?? '/var/log/audit/audit.log';
  } catch {
    return '/var/log/audit/audit.log';
  }
}

const RATELIMIT = ['/proc/sys/kernel/printk_ratelimit', '/proc/sys/kernel/printk_ratelimit_burst'];

/** The enricher's source arguments; kmsg gets the rate limit off until the test ends. */
function chooseSource(t: Test): string[] {
  if (auditdPid() !== 0) {
    const file = auditLogFile();
    t.comment(`an audit daemon runs: reading ${file}`);
    return ['--source', 'audit', '--audit-log', file];
  }
  const before = RATELIMIT.map((f) => readFileSync(f, 'utf8').trim());
  for (const f of RATELIMIT) writeFileSync(f, '0');
  t.teardown(() => {
    RATELIMIT.forEach((f, i) => {
      writeFileSync(f, before[i]!);
    });
  });
  t.comment('no audit daemon: reading /dev/kmsg, printk rate limit off for the test');
  return ['--source', 'kmsg', '--poll-ms', '50'];
}

function startEnricher(t: Test, cluster: Cluster, args: string[]): RoleProcess & { socket: string } {
  // not under t.testdir(): a unix socket path must fit in 107 bytes
  const dir = mkdtempSync(join(tmpdir(), 'enr-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'enricher.sock');
  const role = startRole(
    ['enricher', '--socket', socket, '--port', '0', '--host', '127.0.0.1', '--insecure-metrics', ...args],
    { SPO_CRI_ENDPOINT: cluster.criEndpoint, NODE_NAME: cluster.nodeName, LOG_LEVEL: 'info' },
  );
  t.teardown(() => role.stop());
  return Object.assign(role, { socket });
}

const ARGS: Record<string, string[]> = {
  nginx: ['wait-file', '/tmp/go', '--', 'mkdir', '/tmp/made', '--', 'exit', '0'],
  redis: ['wait-file', '/tmp/go', '--', 'uname', '--', 'exit', '0'],
};

async function finished(cluster: Cluster, ns: string, name: string): Promise<V1Pod> {
  return waitFor(
    async () => {
      const p = await cluster.core.readNamespacedPod({ name, namespace: ns });
      const waiting = (p.status?.containerStatuses ?? []).find((s) =>
        s.state?.waiting?.reason?.includes('Err'),
      );
      if (waiting)
        throw Object.assign(new Error(`${name}/${waiting.name}: ${waiting.state?.waiting?.reason}`), {
          fatal: true,
        });
      return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
    },
    {
      what: `pod ${name} to finish`,
      timeoutMs: 120_000,
      failFast: (e) => (e as { fatal?: boolean }).fatal === true,
    },
  );
}

async function running(cluster: Cluster, ns: string, name: string): Promise<V1Pod> {
  return waitFor(
    async () => {
      const p = await cluster.core.readNamespacedPod({ name, namespace: ns });
      const all = p.status?.containerStatuses ?? [];
      return all.length === 2 && all.every((s) => s.state?.running) ? p : undefined;
    },
    { what: `pod ${name} running`, timeoutMs: 120_000 },
  );
}

/** Lets both containers go on (they wait for /tmp/go), from the host side. */
async function release(pod: V1Pod): Promise<void> {
  const cri = criClient();
  try {
    for (const c of ['nginx', 'redis']) {
      writeFileSync(`/proc/${await containerHostPid(cri, pod, c)}/root/tmp/go`, '');
    }
  } finally {
    cri.close();
  }
}

function exitCodes(pod: V1Pod): Record<string, number | undefined> {
  return Object.fromEntries(
    (pod.status?.containerStatuses ?? []).map((s) => [s.name, s.state?.terminated?.exitCode]),
  );
}

t.test(
  'recorder: logs records the seed two-container pod into <rec>-<ctr>',
  requires(t, missing),
  async (t) => {
    const cluster = await requireCluster(t);
    if (cluster === undefined) return;
    const { started } = await ensureOperator(cluster.kc);
    t.teardown(async () => {
      if (started.length > 0) await stopOperator();
    });
    const custom = cluster.kc.makeApiClient(CustomObjectsApi);
    const ns = await createNamespace(cluster, 'reclogs');
    t.teardown(() => deleteNamespace(cluster, ns));

    const enricher = startEnricher(t, cluster, chooseSource(t));
    await enricher.waitForLog(isMsg('enricher started'));
    const daemon = startDaemon(cluster, undefined, ['--enricher-socket', enricher.socket]);
    t.teardown(() => daemon.stop());
    await daemon.waitForLog(isMsg('recording controller started'), 120_000);
    const logProfile = join(
      cluster.kubeletDir,
      'seccomp/operator',
      OPERATOR_NAMESPACE,
      'log-enricher-trace.json',
    );
    await waitFor(() => existsSync(logProfile), { what: `${logProfile} written by the daemon` });

    // the seed's ProfileRecording, unchanged but for the namespace
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1alpha1',
      plural: 'profilerecordings',
      namespace: ns,
      body: {
        apiVersion: `${GROUP}/v1alpha1`,
        kind: 'ProfileRecording',
        metadata: { name: 'test-recording', namespace: ns },
        spec: { kind: 'SeccompProfile', recorder: 'logs', podSelector: { matchLabels: { app: 'my-app' } } },
      },
    });
    const pod = (name: string, labels: Record<string, string>, profiles?: Record<string, string>): V1Pod => ({
      metadata: { name, namespace: ns, labels },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 1,
        containers: ['nginx', 'redis'].map((c) => ({
          ...demoContainer(c, ARGS[c]!),
          ...(profiles?.[c] !== undefined
            ? { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: profiles[c] } } }
            : {}),
        })),
      },
    });
    // the manager labels the namespace and the webhook's cache learns the recording: until then, pods pass unmarked
    await waitFor(
      async () => {
        const dry = await cluster.core.createNamespacedPod({
          namespace: ns,
          body: pod('my-pod', { app: 'my-app' }),
          dryRun: 'All',
        });
        return dry.metadata?.annotations?.['io.containers.trace-logs/nginx'] !== undefined;
      },
      { what: 'the webhook to mark pods of the logs recording', timeoutMs: 60_000 },
    );
    const created = await cluster.core.createNamespacedPod({
      namespace: ns,
      body: pod('my-pod', { app: 'my-app' }),
    });
    t.match(
      created.metadata?.annotations,
      {
        'io.containers.trace-logs/nginx': 'test-recording',
        'io.containers.trace-logs/redis': 'test-recording',
      },
      'the webhook annotated both containers',
    );
    t.same(
      created.spec?.containers.map((c) => c.securityContext?.seccompProfile?.localhostProfile),
      [0, 1].map(() => `operator/${OPERATOR_NAMESPACE}/log-enricher-trace.json`),
      'both containers run under the log profile',
    );

    const live = await running(cluster, ns, 'my-pod');
    // every record read so far is attributed before the workload goes on, so nothing waits on a lookup
    for (const c of ['nginx', 'redis'])
      await enricher.waitForLog((l) => l.msg === 'audit' && l.namespace === ns && l.container === c, 60_000);
    await release(live);
    const done = await finished(cluster, ns, 'my-pod');
    t.same(exitCodes(done), { nginx: 0, redis: 0 }, 'the recorded pod ran to completion');

    const get = (name: string) =>
      waitFor(
        () =>
          custom
            .getNamespacedCustomObject({
              group: GROUP,
              version: 'v1beta1',
              plural: 'seccompprofiles',
              namespace: ns,
              name,
            })
            .then((p) => p as SeccompProfile),
        { what: `SeccompProfile ${ns}/${name}`, timeoutMs: 90_000 },
      );
    const nginx = await get('test-recording-nginx');
    const redis = await get('test-recording-redis');
    t.ok(allowed(nginx).includes('mkdir'), 'nginx made its directory');
    t.notOk(allowed(redis).includes('mkdir'), 'redis did not');
    t.ok(allowed(redis).includes('uname'), 'redis called uname');
    for (const p of [nginx, redis]) {
      t.equal(p.spec.defaultAction, 'SCMP_ACT_ERRNO', `${p.metadata.name}: everything else is refused`);
      t.match(
        p.metadata.labels,
        { 'spo.x-k8s.io/recording-id': 'test-recording', 'spo.x-k8s.io/container-id': String },
        `${p.metadata.name}: labelled as the bpf path labels`,
      );
    }
    t.comment(`test-recording-nginx allows ${allowed(nginx).length}: ${allowed(nginx).join(' ')}`);
    const events = await cluster.core.listNamespacedEvent({ namespace: ns });
    const reasons = events.items.map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}:${e.reason}`);
    t.ok(reasons.includes('Pod/my-pod:SeccompProfileRecording'), 'recording event on the pod');
    t.ok(reasons.includes('SeccompProfile/test-recording-nginx:SeccompProfileCreated'), 'created event');
    await waitFor(
      async () => {
        const p = await cluster.core.readNamespacedPod({ name: 'my-pod', namespace: ns });
        return !(p.metadata?.finalizers ?? []).includes('spo.x-k8s.io/profile-recording');
      },
      { what: 'the recording finalizer released' },
    );
    const client = new EnricherClient(enricher.socket);
    t.teardown(() => client.close());
    t.same(
      await client.getSyscalls({ recording: 'test-recording', namespace: ns }),
      [],
      'the enricher forgot what it handed over',
    );

    // closed loop: the same workload, not selected by the recording, each container under its own profile
    const dir = join(cluster.kubeletDir, 'seccomp/operator', ns);
    await waitFor(
      () =>
        existsSync(join(dir, 'test-recording-nginx.json')) &&
        existsSync(join(dir, 'test-recording-redis.json')),
      { what: 'the recorded profiles on the node' },
    );
    await cluster.core.createNamespacedPod({
      namespace: ns,
      body: pod(
        'replay',
        { app: 'replay' },
        {
          nginx: `operator/${ns}/test-recording-nginx.json`,
          redis: `operator/${ns}/test-recording-redis.json`,
        },
      ),
    });
    await release(await running(cluster, ns, 'replay'));
    const replay = await finished(cluster, ns, 'replay');
    t.same(exitCodes(replay), { nginx: 0, redis: 0 }, 'the workload completes under its recorded profiles');
  },
);
