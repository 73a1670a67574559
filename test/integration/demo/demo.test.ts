// The demo (`npm run demo` without its set-up) run as CI would, with no terminal, twice in a row: first as a user
// runs it (it leaves my-namespace for exploring), then again over those leftovers with SPO_DEMO_CLEANUP=1. Each
// step's observation comes from the demo's SPO_DEMO_REPORT lines, is checked against the system where it can
// be (the profile on disk, the host's `/`), and must also be what the demo printed. Between runs the cluster
// must be as usable as before: nothing of the demo left running, the cluster's own processes untouched.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parseProfileText } from '../../../src/profiles/document.js';
import { nativeBuilt } from '../../../src/recorder/native.js';
import { daemonUrl, nodeDaemon, recorderDaemon, stopNodeRoles } from '../../env/node-roles.js';
import { managerDaemon, webhookDaemon } from '../../env/operator.js';
import { processStartTime, runningPid, stopDaemon } from '../../env/processes.js';
import { type Cluster, requireCluster, waitFor } from '../../helpers/cluster.js';
import { requires, rootMissing } from '../../helpers/prereq.js';
import { paths, repoRoot } from '../../env/layout.js';

const NAMESPACE = 'my-namespace';
const OPERATOR_DAEMONS = [nodeDaemon, recorderDaemon, webhookDaemon, managerDaemon];
const CLUSTER_DAEMONS = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'containerd',
  'kubelet',
];
/** Every step that reports, in the order the demo runs them. */
const STEPS = [
  'start',
  'local-record',
  'local-profile',
  'local-run',
  'local-denied',
  'local-diff',
  'cluster-up',
  'daemon',
  'profile-synced',
  'test-pod',
  'binding',
  'profile-status',
  'recording-marked',
  'recorded-workload',
  'recorded-profile',
  'closed-loop',
  'metrics',
  'done',
];
const RUN_TIMEOUT_MS = 240_000;

type Observation = Record<string, unknown> & { step: string };

interface DemoRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly observations: readonly Observation[];
  readonly pgid: number;
  readonly ms: number;
}

function demoMissing(): string | undefined {
  return (
    rootMissing() ??
    (existsSync('/sys/kernel/btf/vmlinux') ? undefined : 'needs kernel BTF') ??
    (nativeBuilt() ? undefined : 'recorder addon not built: npm run build:native') ??
    (existsSync(join(repoRoot, 'dist/src/cli/main.js'))
      ? undefined
      : 'seccompctl not built: npm run build:ts')
  );
}

/** Live pids whose process group is `pgid` (field 5 of /proc/<pid>/stat). */
function processGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || processStartTime(Number(entry)) === undefined) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) out.push(Number(entry));
    } catch {}
  }
  return out;
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {}
}

/** Runs the demo in its own process group (so a hung run can be stopped with everything it started). */
function runDemo(reportFile: string, cleanup: boolean): Promise<DemoRun> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/demo.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      CI: 'true',
      SPO_DEMO_REPORT: reportFile,
      SPO_DEMO_CLEANUP: cleanup ? '1' : '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pgid = child.pid as number;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => {
    stderr += `\n[test] demo still running after ${RUN_TIMEOUT_MS} ms: stopping its process group\n`;
    killGroup(pgid, 'SIGTERM');
    setTimeout(() => killGroup(pgid, 'SIGKILL'), 10_000).unref();
  }, RUN_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const text = existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : '';
      const observations = text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Observation);
      resolve({ code, signal, stdout, stderr, observations, pgid, ms: Date.now() - started });
    });
  });
}

function observed(run: DemoRun, step: string): Observation {
  const found = run.observations.find((o) => o.step === step);
  if (found === undefined) throw new Error(`the demo reported no "${step}" step`);
  return found;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/** True when every non-empty line of `text` was printed by the demo as an observation (`   | line`). */
function shown(run: DemoRun, text: string): boolean {
  const printed = new Set(run.stdout.split('\n'));
  return text
    .trimEnd()
    .split('\n')
    .every((line) => printed.has(`   | ${line}`));
}

/** The demo keeps its work directories for a user to look at; a test run removes them. */
function removeWorkDirs(run: DemoRun): void {
  const dirs = [observedDir(run, 'start'), observedDir(run, 'daemon')];
  for (const dir of dirs) {
    if (dir?.startsWith(join(tmpdir(), 'spo-demo-'))) rmSync(dir, { recursive: true, force: true });
  }
}

function observedDir(run: DemoRun, step: string): string | undefined {
  const work = run.observations.find((o) => o.step === step)?.['work'];
  return typeof work === 'string' ? work : undefined;
}

/** Where the run spent its time, and all it printed when it failed. */
function commentRun(t: Test, run: DemoRun): void {
  const steps = run.observations.map((o) => `${o.step} ${((Number(o['ms']) || 0) / 1000).toFixed(1)}`);
  t.comment(`demo run: ${(run.ms / 1000).toFixed(1)} s; steps reported at (s): ${steps.join(', ')}`);
  if (run.code !== 0) t.comment(`demo output:\n${run.stdout}`);
}

/** What every run must have observed, step by step. */
async function checkObservations(t: Test, run: DemoRun): Promise<void> {
  t.same(
    run.observations.map((o) => o.step).filter((s) => STEPS.includes(s)),
    STEPS,
    'every step reported, in order',
  );

  const record = observed(run, 'local-record');
  t.equal(record['exitCode'], 0, 'seccompctl record: ls exited 0');
  t.ok(shown(run, str(record['stderr'])), 'what record said is shown');
  const profilePath = str(observed(run, 'local-profile')['profile']);
  t.ok(existsSync(profilePath), `the recorded profile ${profilePath} exists`);
  const onDisk = parseProfileText(readFileSync(profilePath, 'utf8'), profilePath).profile.spec;
  const recorded = onDisk.syscalls?.flatMap((s) => s.names) ?? [];
  t.ok(recorded.includes('getdents64'), 'the recorded ls profile lists getdents64');
  t.same(
    strings(observed(run, 'local-profile')['syscalls']),
    recorded,
    'the demo listed what the file holds',
  );
  t.ok(shown(run, recorded.join(' ')), 'and printed that list');

  const ran = observed(run, 'local-run');
  t.equal(ran['exitCode'], 0, 'ls runs under its own profile');
  const listed = str(ran['stdout']).trimEnd().split('\n');
  const root = new Set(readdirSync('/'));
  t.ok(listed.length > 0 && listed.every((name) => root.has(name)), 'and lists the entries of /');

  const denied = observed(run, 'local-denied');
  t.not(denied['exitCode'], 0, 'ls fails without getdents64');
  t.match(str(denied['stderr']), /getdents64 \(syscall \d+\)/, 'the denial names getdents64');
  t.ok(shown(run, str(denied['stderr'])), 'the denial is shown');
  t.match(str(observed(run, 'local-diff')['stdout']), /^- getdents64:/m, 'diff shows getdents64 taken away');

  t.equal(observed(run, 'cluster-up')['exitCode'], 0, 'scripts/dev up succeeded');
  t.equal(observed(run, 'daemon')['address'], daemonUrl(), "the demo used scripts/dev's daemon address");

  const synced = observed(run, 'profile-synced');
  t.equal(
    str(synced['file']),
    join(paths.kubeletDir, 'seccomp/operator', NAMESPACE, 'profile1.json'),
    'profile1 synced to its node path',
  );
  const content = str(synced['content']);
  let raw: { defaultAction?: unknown } = {};
  t.doesNotThrow(() => {
    raw = JSON.parse(content) as { defaultAction?: unknown };
  }, 'the synced file is valid JSON');
  t.equal(raw.defaultAction, 'SCMP_ACT_LOG', 'with the seed defaultAction');
  t.ok(shown(run, content), 'the file content is shown');
  t.equal(synced['nodeStatus'], 'Installed', 'SecurityProfileNodeStatus profile1-dev-node Installed');

  const localhost = (name: string) => ({
    type: 'Localhost',
    localhostProfile: `operator/${NAMESPACE}/${name}.json`,
  });
  const testPod = observed(run, 'test-pod');
  t.equal(testPod['phase'], 'Running', 'the seed test-pod runs under profile1');
  t.same(testPod['seccompProfile'], localhost('profile1'), 'with profile1 as its seccompProfile');

  const binding = observed(run, 'binding');
  t.match(str(binding['pod']), /^bound-/, 'a pod was created for the binding');
  t.same(
    binding['injected'],
    localhost('profile1'),
    'the binding injected localhostProfile operator/<ns>/<name>.json',
  );

  const status = observed(run, 'profile-status');
  t.equal(status['status'], 'Installed', 'kubectl get sp -o wide: profile1 Installed');
  t.equal(status['localhostProfile'], `operator/${NAMESPACE}/profile1.json`, 'with its localhostProfile');
  t.ok(
    run.stdout.includes(`kubectl get sp -o wide: profile1  Installed  operator/${NAMESPACE}/profile1.json`),
    'and that status line is shown',
  );

  const marked = observed(run, 'recording-marked');
  t.equal(marked['recordingId'], 'my-recording', 'the recording webhook labelled my-pod');
  t.equal(marked['traceAnnotation'], 'my-recording', 'and annotated its container for the bpf recorder');
  t.equal(
    observed(run, 'recorded-workload')['madeDirectory'],
    true,
    'the recorded workload made its directory',
  );
  const profile = observed(run, 'recorded-profile');
  t.equal(profile['name'], 'my-recording-demo', 'the profile is named <recording>-<container>');
  const names = strings(profile['syscalls']);
  t.ok(names.includes('mkdir') || names.includes('mkdirat'), 'my-recording-demo contains mkdir');
  t.ok(shown(run, names.join(' ')), 'the recorded syscalls are shown');

  const loop = observed(run, 'closed-loop');
  t.same(loop['seccompProfile'], localhost('my-recording-demo'), 'replay was bound to the recorded profile');
  t.equal(loop['phase'], 'Running', 'the closed-loop pod runs');
  t.equal(loop['running'], true, 'its container is running');
  t.equal(loop['madeDirectory'], true, 'and did its work under the recorded profile');
  t.comment(
    `closed-loop container restarts: ${String(loop['restarts'])}; last exit: ${JSON.stringify(loop['lastTermination'] ?? null)}`,
  );

  const lines = strings(observed(run, 'metrics')['lines']);
  t.ok(
    lines.some((l) => /^security_profiles_operator_seccomp_profile_total\{operation="\w+"\} [1-9]/.test(l)),
    'metrics: security_profiles_operator_seccomp_profile_total counted profile operations',
  );
  t.ok(
    lines.some((l) =>
      /^security_profiles_operator_seccomp_profile_bpf_total\{node="dev-node",mount_namespace="\d+",profile="my-recording-demo"\} [1-9]/.test(
        l,
      ),
    ),
    'metrics: security_profiles_operator_seccomp_profile_bpf_total counted the recorded container',
  );
  t.ok(shown(run, lines.join('\n')), 'the metric lines are shown');

  const hints = strings(observed(run, 'done')['hints']);
  t.ok(run.stdout.includes('== Done. Keep exploring:'), 'the closing hints are printed');
  t.ok(
    hints.some((h) => h.includes('KUBECONFIG')),
    'a hint says where KUBECONFIG comes from',
  );
  t.ok(
    hints.some((h) => /\bdown\b/.test(h)),
    'a hint says how to tear the cluster down',
  );
  t.ok(
    hints.every((h) => run.stdout.includes(h)),
    'every hint is printed',
  );
}

/** After a run: nothing of the demo runs any more and the cluster it found is the cluster it left. */
async function checkLeftBehind(
  t: Test,
  c: Cluster,
  run: DemoRun,
  before: Record<string, number | undefined>,
) {
  // The demo records with the recorder and daemon `SPO_DEV_OPERATOR=1 scripts/dev up` runs, and leaves them
  // running with the webhook and manager: they belong to the cluster, not to the demo's process group.
  const daemon = run.observations.find((o) => o.step === 'daemon');
  for (const [key, name] of [
    ['recorderPid', recorderDaemon],
    ['daemonPid', nodeDaemon],
  ] as const) {
    const pid = Number(daemon?.[key]);
    t.equal(pid, runningPid(name), `the demo's ${key} ${pid} is scripts/dev's ${name}, still running`);
  }
  const gone = await waitFor(() => processGroup(run.pgid).length === 0, {
    what: `the processes of the demo's group ${run.pgid} to exit`,
    timeoutMs: 10_000,
  }).catch(() => false);
  const left = processGroup(run.pgid);
  if (!gone) killGroup(run.pgid, 'SIGKILL');
  t.ok(gone, `no process of the demo is left (group ${run.pgid}; left: ${left.join(' ') || 'none'})`);
  const after = Object.fromEntries(CLUSTER_DAEMONS.map((d) => [d, runningPid(d)]));
  t.same(after, before, 'the cluster processes are the ones that ran before the demo');
  const node = await c.core.readNode({ name: c.nodeName });
  t.ok(
    node.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'),
    `node ${c.nodeName} is still Ready`,
  );
}

async function namespaceExists(c: Cluster): Promise<boolean> {
  return c.core.readNamespace({ name: NAMESPACE }).then(
    () => true,
    (err: { code?: number }) => {
      if (err.code === 404) return false;
      throw err;
    },
  );
}

async function main(c: Cluster): Promise<void> {
  const before = Object.fromEntries(CLUSTER_DAEMONS.map((d) => [d, runningPid(d)]));
  // The demo starts the operator's webhook and manager and the node's recorder and daemon through
  // `scripts/dev up`; ones this test made it start are stopped again, ones that already ran (a developer's
  // `SPO_DEV_OPERATOR=1 scripts/dev up`) are left.
  const operatorBefore = OPERATOR_DAEMONS.filter((d) => runningPid(d) !== undefined);
  const work = mkdtempSync(join(tmpdir(), 'spo-demo-test-'));
  t.teardown(async () => {
    // Only after a failed second run: the demo's own clean-up deletes the namespace otherwise.
    if (await namespaceExists(c).catch(() => false)) {
      await c.core.deleteNamespace({ name: NAMESPACE }).catch(() => undefined);
      await waitFor(async () => !(await namespaceExists(c)), {
        what: `namespace ${NAMESPACE} to be deleted`,
        timeoutMs: 120_000,
      }).catch(() => undefined);
    }
    // In this order: the daemon holds the recorder's socket, and the webhook and manager go last.
    if (operatorBefore.includes(nodeDaemon) || operatorBefore.includes(recorderDaemon)) {
      for (const d of [nodeDaemon, recorderDaemon]) if (!operatorBefore.includes(d)) await stopDaemon(d);
    } else {
      await stopNodeRoles(); // also removes the pins the recorder may leave
    }
    for (const d of [webhookDaemon, managerDaemon]) if (!operatorBefore.includes(d)) await stopDaemon(d);
    rmSync(work, { recursive: true, force: true });
  });

  const durations: number[] = [];
  await t.test(
    'first run, as a user runs it: every observation, the namespace left to explore',
    async (t) => {
      const run = await runDemo(join(work, 'first.jsonl'), false);
      durations.push(run.ms);
      commentRun(t, run);
      t.equal(run.code, 0, `the demo exited 0 (signal ${run.signal}); stderr:\n${run.stderr.slice(-3000)}`);
      await checkLeftBehind(t, c, run, before);
      await checkObservations(t, run);
      t.notOk(
        run.observations.some((o) => o.step === 'cleanup'),
        'no clean-up without SPO_DEMO_CLEANUP',
      );
      t.ok(await namespaceExists(c), `${NAMESPACE} is left for exploring`);
      removeWorkDirs(run);
    },
  );

  await t.test("second run over the first one's leftovers, cleaning up after itself", async (t) => {
    const run = await runDemo(join(work, 'second.jsonl'), true);
    durations.push(run.ms);
    commentRun(t, run);
    t.equal(run.code, 0, `the demo exited 0 (signal ${run.signal}); stderr:\n${run.stderr.slice(-3000)}`);
    await checkLeftBehind(t, c, run, before);
    await checkObservations(t, run);
    const cleanup = observed(run, 'cleanup');
    t.equal(cleanup['namespaceDeleted'], true, `the demo deleted ${NAMESPACE}`);
    t.notOk(await namespaceExists(c), `${NAMESPACE} is gone`);
    t.ok(
      strings(cleanup['filesRemoved']).every((f) => !existsSync(f)),
      'and the profile files left the node',
    );
    removeWorkDirs(run);
  });

  t.comment(`demo durations: ${durations.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}`);
}

t.setTimeout(2 * RUN_TIMEOUT_MS + 120_000);
const missing = demoMissing();
if (missing !== undefined) {
  const { skip } = requires(t, missing);
  if (skip) t.plan(0, skip);
} else {
  const cluster = await requireCluster(t);
  if (cluster) await main(cluster);
}
