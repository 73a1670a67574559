// The enricher against real kernel records: a pod of the local cluster runs under an SCMP_ACT_LOG profile,
// the kernel logs its syscalls (to /dev/kmsg, or to auditd when it runs), and a real `seccompctl enricher`
// attributes them to the pod and container, counts them, and records them for the pod's recording.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { EnricherClient } from '../../../src/rpc/enricher-client.js';
import {
  type Cluster,
  createNamespace,
  createPodAndWait,
  deleteNamespace,
  requireCluster,
  waitFor,
} from '../../helpers/cluster.js';
import { auditdMissing as missingAuditd, startPrivateAuditd } from '../../helpers/auditd.js';
import { requires, rootMissing } from '../../helpers/prereq.js';
import { type RoleProcess, startRole } from '../../helpers/role-process.js';

const missing = rootMissing() ?? (existsSync('/dev/kmsg') ? undefined : 'needs /dev/kmsg');

function writeLogProfile(cluster: Cluster, namespace: string): string {
  const dir = join(cluster.kubeletDir, 'seccomp', 'operator', namespace);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'log.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_LOG' }));
  return `operator/${namespace}/log.json`;
}

function startEnricher(t: Test, cluster: Cluster, args: string[]): RoleProcess & { socket: string } {
  // not under t.testdir(): a unix socket path must fit in 107 bytes
  const socketDir = mkdtempSync(join(tmpdir(), 'enr-'));
  t.teardown(() => rmSync(socketDir, { recursive: true, force: true }));
  const socket = join(socketDir, 'enricher.sock');
  const role = startRole(
    ['enricher', '--socket', socket, '--port', '0', '--host', '127.0.0.1', '--insecure-metrics', ...args],
    { SPO_CRI_ENDPOINT: cluster.criEndpoint, NODE_NAME: cluster.nodeName, LOG_LEVEL: 'info' },
  );
  t.teardown(() => role.stop());
  return Object.assign(role, { socket });
}

/** A pod under the log profile whose container keeps making syscalls, annotated for recording `rec`. */
async function logPod(cluster: Cluster, namespace: string, profile: string) {
  return createPodAndWait(cluster, {
    metadata: {
      name: 'log-pod',
      namespace,
      annotations: { 'io.containers.trace-logs/log-container': 'rec' },
    },
    spec: {
      securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: profile } },
      containers: [
        {
          name: 'log-container',
          image: cluster.images.busybox,
          command: ['sh', '-c', 'while true; do cat /proc/self/stat > /dev/null; sleep 1; done'],
        },
      ],
    },
  });
}

async function checkAttributed(
  t: Test,
  role: RoleProcess & { socket: string },
  cluster: Cluster,
  ns: string,
) {
  const audit = await role.waitForLog(
    (l) => l['msg'] === 'audit' && l['namespace'] === ns && l['pod'] === 'log-pod',
    60_000,
  );
  t.match(audit, {
    node: cluster.nodeName,
    namespace: ns,
    pod: 'log-pod',
    container: 'log-container',
    type: 'seccomp',
    pid: Number,
    syscallID: Number,
    syscallName: String,
    timestamp: /^\d+\.\d+:\d+$/,
    executable: String,
  });
  t.comment(`first attributed line: ${JSON.stringify(audit)}`);
  const address = String(role.lines.find((l) => l['msg'] === 'enricher started')?.['address']);
  const series = await waitFor(
    async () => {
      const text = await (await fetch(`${address}/metrics`)).text();
      return text
        .split('\n')
        .filter(
          (l) =>
            l.startsWith('security_profiles_operator_seccomp_profile_audit_total{') &&
            l.includes(`namespace="${ns}"`),
        );
    },
    { what: 'audit metric series for the pod', timeoutMs: 30_000 },
  );
  t.ok(series.length > 0, 'metric series for the pod');
  t.match(series[0], /pod="log-pod"/);
  t.match(series[0], /container="log-container"/);
  t.match(series[0], new RegExp(`node="${cluster.nodeName}"`));
  t.comment(`${series.length} series, e.g. ${series[0]}`);

  const client = new EnricherClient(role.socket);
  t.teardown(() => client.close());
  const recorded = await waitFor(
    async () => {
      const r = await client.getSyscalls({ recording: 'rec', namespace: ns });
      return r.length > 0 ? r : undefined;
    },
    { what: 'recorded syscalls over gRPC', timeoutMs: 30_000 },
  );
  t.match(recorded[0], { recording: 'rec', namespace: ns, pod: 'log-pod', container: 'log-container' });
  const names = recorded[0]?.architectures[0]?.syscalls ?? [];
  t.ok(names.length > 0, `recorded ${names.length} syscalls: ${names.join(' ')}`);
  t.equal(await client.resetSyscalls({ recording: 'rec', namespace: ns, pod: 'log-pod' }), 1);
}

t.test(
  'kmsg: a pod under the log profile gets attributed lines and metric series',
  requires(t, missing),
  async (t) => {
    const cluster = await requireCluster(t);
    if (!cluster) return;
    const ns = await createNamespace(cluster, 'enr');
    t.teardown(() => deleteNamespace(cluster, ns));
    const profile = writeLogProfile(cluster, ns);
    const role = startEnricher(t, cluster, ['--source', 'kmsg', '--poll-ms', '50']);
    await role.waitForLog((l) => l['msg'] === 'enricher started');
    await logPod(cluster, ns, profile);
    await checkAttributed(t, role, cluster, ns);
  },
);

const auditdMissing = missing ?? missingAuditd();

t.test(
  'auditd: the same through audit.log written by a real auditd',
  requires(t, auditdMissing),
  async (t) => {
    const cluster = await requireCluster(t);
    if (!cluster) return;
    const auditd = await startPrivateAuditd(t, t.testdir());
    if (auditd === undefined) return;
    const logFile = auditd.logFile;

    const ns = await createNamespace(cluster, 'enr');
    t.teardown(() => deleteNamespace(cluster, ns));
    const profile = writeLogProfile(cluster, ns);
    const role = startEnricher(t, cluster, ['--source', 'audit', '--audit-log', logFile, '--poll-ms', '50']);
    await role.waitForLog((l) => l['msg'] === 'enricher started');
    await logPod(cluster, ns, profile);
    await checkAttributed(t, role, cluster, ns);
    const lines = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('type=SECCOMP')).length;
    t.comment(`auditd wrote ${lines} type=SECCOMP lines`);
  },
);
