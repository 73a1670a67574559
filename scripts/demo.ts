// The main job: a walk through the product on this machine, printing what each step does and what it saw.
// Run through `npm run demo` (which does the set-up first). Needs root: eBPF, mount namespaces, containers.
// SPO_DEMO_REPORT=FILE also appends each observation to FILE as a JSON line ({step, ...}), so a test can check
// what the demo saw without parsing its prose; SPO_DEMO_CLEANUP=1 deletes my-namespace at the end instead of
// leaving it for exploring. Neither changes what the demo prints for its steps.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { paths, repoRoot } from '../test/env/layout.js';
import { waitFor } from '../test/env/wait.js';
import { daemonUrl, nodeDaemon, nodeRolePaths, recorderDaemon } from '../test/env/node-roles.js';
import { runningPid } from '../test/env/processes.js';
import { containerHostPid, criClient } from '../test/helpers/cri.js';
import { parseProfileText, renderProfile } from '../src/profiles/document.js';

const GROUP = 'security-profiles-operator.x-k8s.io';
const cli = join(repoRoot, 'dist/src/cli/main.js');
let stepNo = 0;

function step(title: string): void {
  stepNo += 1;
  console.log(`\n== ${stepNo}. ${title}`);
}

function saw(text: string): void {
  for (const line of text.trimEnd().split('\n')) console.log(`   | ${line}`);
}

const reportFile = process.env['SPO_DEMO_REPORT'];
const started = Date.now();

/** What a step observed, as data: one JSON line in SPO_DEMO_REPORT when it is set (ms: since the start). */
function report(name: string, observed: Record<string, unknown>): void {
  if (reportFile === undefined || reportFile === '') return;
  appendFileSync(reportFile, `${JSON.stringify({ step: name, ms: Date.now() - started, ...observed })}\n`);
}

function seccompctl(args: string[]): { code: number; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: res.status ?? 1, stdout: res.stdout, stderr: res.stderr };
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(`demo: expected ${what}`);
  console.log(`   ok: ${what}`);
}

async function localRecording(work: string): Promise<void> {
  step('Record a command with eBPF: seccompctl record -- ls -la /');
  const profile = join(work, 'ls.yaml');
  const rec = seccompctl(['record', '-o', profile, '--', 'ls', '-la', '/']);
  saw(rec.stderr);
  report('local-record', { exitCode: rec.code, stderr: rec.stderr, profile });
  expect(rec.code === 0, 'ls exited 0 while recorded');
  const parsed = parseProfileText(readFileSync(profile, 'utf8'), profile);
  const names = parsed.profile.spec.syscalls?.flatMap((s) => s.names) ?? [];
  report('local-profile', {
    profile,
    defaultAction: parsed.profile.spec.defaultAction,
    syscalls: names,
  });
  saw(
    `${profile}: defaultAction ${parsed.profile.spec.defaultAction}, ${names.length} syscalls allowed:\n${names.join(' ')}`,
  );

  step('Run ls under its own profile: seccompctl run --profile ls.yaml -- ls /');
  const ok = seccompctl(['run', '--profile', profile, '--', 'ls', '/']);
  saw(`${ok.stdout.split('\n').slice(0, 4).join('\n')}\n...`);
  report('local-run', { exitCode: ok.code, stdout: ok.stdout, stderr: ok.stderr });
  expect(ok.code === 0, 'ls runs under the recorded profile');

  step('Take away one syscall ls needs (getdents64) and run again');
  const spec = parsed.profile.spec;
  const broken = {
    ...parsed.profile,
    spec: {
      ...spec,
      syscalls: spec.syscalls?.map((s) => ({ ...s, names: s.names.filter((n) => n !== 'getdents64') })),
    },
  };
  const brokenPath = join(work, 'ls-without-getdents64.yaml');
  writeFileSync(brokenPath, renderProfile(broken, 'cr'));
  const denied = seccompctl(['run', '--profile', brokenPath, '--', 'ls', '/']);
  saw(denied.stderr);
  report('local-denied', { exitCode: denied.code, stderr: denied.stderr, profile: brokenPath });
  expect(denied.code !== 0 && /getdents64/.test(denied.stderr), 'ls fails and the denied syscall is named');

  step('Compare the two profiles: seccompctl diff');
  const diff = seccompctl(['diff', profile, brokenPath]);
  saw(diff.stdout);
  report('local-diff', { exitCode: diff.code, stdout: diff.stdout });
}

const notFound = (err: { code?: number }): true => {
  if (err.code === 404) return true;
  throw err;
};

/** my-namespace, created when missing; one still being deleted (by a cleaned-up earlier run) is waited out. */
async function ensureNamespace(core: CoreV1Api): Promise<void> {
  const name = 'my-namespace';
  await waitFor(
    () => core.readNamespace({ name }).then((ns) => ns.metadata?.deletionTimestamp === undefined, notFound),
    { what: `namespace ${name} of an earlier run to finish deleting`, timeoutMs: 120_000 },
  );
  await core.createNamespace({ body: { metadata: { name } } }).catch((err: { code?: number }) => {
    if (err.code !== 409) throw err;
  });
  // The apiserver refuses pods until the namespace's default ServiceAccount exists.
  await waitFor(
    () => core.readNamespacedServiceAccount({ name: 'default', namespace: name }).then(() => true),
    {
      what: `the default ServiceAccount in ${name}`,
      timeoutMs: 30_000,
    },
  );
}

/** The end of a run with SPO_DEMO_CLEANUP=1: the namespace goes while the daemon and manager still run. */
async function cleanUp(core: CoreV1Api): Promise<void> {
  const name = 'my-namespace';
  step(`Clean up (SPO_DEMO_CLEANUP=1): delete namespace ${name}`);
  await core.deleteNamespace({ name }).catch(notFound);
  await waitFor(() => core.readNamespace({ name }).then(() => false, notFound), {
    what: `namespace ${name} to be deleted`,
    timeoutMs: 120_000,
  });
  const dir = join(paths.kubeletDir, 'seccomp/operator', name);
  const files = ['profile1.json', 'my-recording-demo.json'].map((f) => join(dir, f));
  await waitFor(() => files.every((f) => !existsSync(f)), {
    what: `the daemon to remove the profile files under ${dir}`,
    timeoutMs: 60_000,
  });
  saw(`namespace ${name} is gone, and with its profiles their files under ${dir}`);
  report('cleanup', { namespace: name, namespaceDeleted: true, filesRemoved: files });
}

type ProfileWithStatus = {
  status?: { status?: string; localhostProfile?: string; activeWorkloads?: string[] };
};

/** The profile once the manager has rolled its node statuses up to Installed, or as it is after a minute. */
async function installedProfile(custom: CustomObjectsApi, name: string): Promise<ProfileWithStatus> {
  let last: ProfileWithStatus = {};
  await waitFor(
    async () => {
      last = (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: 'v1beta1',
        namespace: 'my-namespace',
        plural: 'seccompprofiles',
        name,
      })) as ProfileWithStatus;
      return last.status?.status === 'Installed';
    },
    { what: `profile ${name} Installed`, timeoutMs: 60_000 },
  ).catch(() => undefined); // what it shows instead is the observation: printed below, and checked by the test
  return last;
}

/** A re-run starts from an empty my-namespace: pods first, so the in-use finalizer lets the profile go. */
async function resetNamespace(core: CoreV1Api, custom: CustomObjectsApi): Promise<void> {
  const namespace = 'my-namespace';
  await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 });
  for (const [version, plural] of [
    ['v1alpha1', 'profilerecordings'],
    ['v1alpha1', 'profilebindings'],
    ['v1beta1', 'seccompprofiles'],
  ] as const) {
    await custom.deleteCollectionNamespacedCustomObject({ group: GROUP, version, namespace, plural });
  }
  await waitFor(
    async () => {
      const pods = await core.listNamespacedPod({ namespace });
      const profiles = (await custom.listNamespacedCustomObject({
        group: GROUP,
        version: 'v1beta1',
        namespace,
        plural: 'seccompprofiles',
      })) as { items: unknown[] };
      return pods.items.length === 0 && profiles.items.length === 0;
    },
    { what: 'my-namespace to be empty from an earlier run', timeoutMs: 90_000 },
  );
}

async function hostPid(pod: V1Pod, container: string): Promise<number> {
  const cri = criClient();
  try {
    return await containerHostPid(cri, pod, container);
  } finally {
    cri.close();
  }
}

/** Lets a demo container blocked on `wait-file /tmp/go` go on and waits for the directory it then makes. */
async function releaseAndWaitMkdir(core: CoreV1Api, name: string, container: string): Promise<void> {
  // Every try re-reads the pod: a container that crashed and was restarted has a new pid and a fresh /tmp,
  // and one that exits between reading its pid and writing the file is only a failed try.
  await waitFor(
    async () => {
      const pid = await hostPid(await core.readNamespacedPod({ name, namespace: 'my-namespace' }), container);
      const tmp = `/proc/${pid}/root/tmp`;
      if (!existsSync(join(tmp, 'go'))) writeFileSync(join(tmp, 'go'), '');
      return existsSync(join(tmp, 'made-by-demo'));
    },
    { what: `the ${container} container in ${name} to make its directory`, timeoutMs: 90_000 },
  );
}

async function runningPod(core: CoreV1Api, name: string): Promise<V1Pod> {
  return waitFor(
    async () => {
      const p = await core.readNamespacedPod({ name, namespace: 'my-namespace' });
      const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
      if (waiting?.reason && /Err/.test(waiting.reason))
        throw Object.assign(new Error(`${name}: ${waiting.reason}`), { fatal: true });
      return p.status?.phase === 'Running' ? p : false;
    },
    {
      what: `pod ${name} running`,
      timeoutMs: 90_000,
      failFast: (e) => (e as { fatal?: boolean }).fatal === true,
    },
  );
}

/** The seed's eBPF recording, then the closed loop: the recorded profile bound to the same image. */
async function recordInCluster(core: CoreV1Api, custom: CustomObjectsApi): Promise<void> {
  const namespace = 'my-namespace';
  const demoImage = 'localhost/spo-test/demo:1';
  const args = ['wait-file', '/tmp/go', '--', 'mkdir', '/tmp/made-by-demo', '--', 'pause'];
  step(
    'Record a pod with eBPF: the seed ProfileRecording my-recording (recorder: bpf, podSelector app=my-app)',
  );
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1alpha1',
    namespace,
    plural: 'profilerecordings',
    body: {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ProfileRecording',
      metadata: { name: 'my-recording', namespace },
      spec: { kind: 'SeccompProfile', recorder: 'bpf', podSelector: { matchLabels: { app: 'my-app' } } },
    },
  });
  await waitFor(
    async () =>
      (await core.readNamespace({ name: namespace })).metadata?.labels?.['spo.x-k8s.io/enable-recording'] !==
      undefined,
    { what: 'namespace labelled spo.x-k8s.io/enable-recording' },
  );
  const created = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'my-pod', namespace, labels: { app: 'my-app' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        restartPolicy: 'Never',
        containers: [{ name: 'demo', image: demoImage, args }],
      },
    },
  });
  const recordingId = created.metadata?.labels?.['spo.x-k8s.io/recording-id'];
  const traceAnnotation = created.metadata?.annotations?.['io.containers.trace-bpf/demo'];
  saw(
    `webhook marked my-pod: label spo.x-k8s.io/recording-id=${recordingId}, ` +
      `annotation io.containers.trace-bpf/demo=${traceAnnotation}`,
  );
  report('recording-marked', { pod: 'my-pod', recordingId, traceAnnotation });
  await runningPod(core, 'my-pod');
  await releaseAndWaitMkdir(core, 'my-pod', 'demo');
  saw('told the workload to go on: it made a directory (mkdir), a syscall nothing else in the pod makes');
  report('recorded-workload', { pod: 'my-pod', madeDirectory: true });
  await core.deleteNamespacedPod({ name: 'my-pod', namespace, gracePeriodSeconds: 1 });
  const profile = await waitFor(
    () =>
      custom
        .getNamespacedCustomObject({
          group: GROUP,
          version: 'v1beta1',
          namespace,
          plural: 'seccompprofiles',
          name: 'my-recording-demo',
        })
        .then(
          (p) => p as { spec: { syscalls?: Array<{ names: string[] }> } },
          () => false as const,
        ),
    { what: 'the recorded profile my-recording-demo', timeoutMs: 120_000 },
  );
  const names = profile.spec.syscalls?.flatMap((r) => r.names) ?? [];
  saw(
    `SeccompProfile my-recording-demo, created when my-pod was deleted: ${names.length} syscalls\n${names.join(' ')}`,
  );
  report('recorded-profile', { name: 'my-recording-demo', syscalls: names });
  expect(names.includes('mkdir') || names.includes('mkdirat'), 'the recorded profile allows mkdir');

  step('Closed loop: bind the recorded profile to the demo image and run the workload under it');
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1alpha1',
    namespace,
    plural: 'profilebindings',
    body: {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ProfileBinding',
      metadata: { name: 'demo-binding', namespace },
      spec: { profileRef: { kind: 'SeccompProfile', name: 'my-recording-demo' }, image: demoImage },
    },
  });
  await waitFor(
    () => existsSync(join(paths.kubeletDir, 'seccomp/operator', namespace, 'my-recording-demo.json')),
    {
      what: 'the recorded profile on the node',
    },
  );
  const bound = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'replay', namespace },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'demo', image: demoImage, args }] },
    },
  });
  const replayProfile = bound.spec?.containers[0]?.securityContext?.seccompProfile;
  saw(`pod replay got: ${JSON.stringify(replayProfile)}`);
  await runningPod(core, 'replay');
  await releaseAndWaitMkdir(core, 'replay', 'demo');
  const replay = await core.readNamespacedPod({ name: 'replay', namespace });
  const restarts = replay.status?.containerStatuses?.[0]?.restartCount ?? 0;
  saw(
    `pod replay is Running under my-recording-demo and made its directory (container restarts: ${restarts}` +
      `${restarts > 0 ? "; a start can fail when runc's own Go runtime needs a syscall the recording missed" : ''})`,
  );
  report('closed-loop', {
    pod: 'replay',
    seccompProfile: replayProfile,
    phase: replay.status?.phase,
    running: replay.status?.containerStatuses?.[0]?.state?.running !== undefined,
    madeDirectory: true,
    restarts,
    lastTermination: replay.status?.containerStatuses?.[0]?.lastState?.terminated,
  });
}

async function cluster(): Promise<void> {
  step(
    'Bring up the local cluster (etcd, kube-apiserver, controller-manager, scheduler, containerd, kubelet) ' +
      'with the operator webhook and manager, and the recorder and daemon for dev-node',
  );
  const up = spawnSync('bash', [join(repoRoot, 'scripts/dev'), 'up'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, SPO_DEV_OPERATOR: '1' },
  });
  report('cluster-up', { exitCode: up.status });
  expect(up.status === 0, 'scripts/dev up succeeded');
  const kc = new KubeConfig();
  kc.loadFromFile(paths.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);

  step(
    'The node roles for dev-node, which scripts/dev up started: seccompctl recorder and seccompctl daemon',
  );
  const address = daemonUrl();
  const recorderPid = runningPid(recorderDaemon);
  const daemonPid = runningPid(nodeDaemon);
  expect(
    recorderPid !== undefined && daemonPid !== undefined,
    `scripts/dev up runs the recorder and the daemon (scripts/dev status; logs in ${paths.logs}/)`,
  );
  saw(
    `daemon (pid ${daemonPid}) listening on ${address}, writing under ${paths.kubeletDir}/seccomp\n` +
      `recorder (pid ${recorderPid}) on ${nodeRolePaths.recorderSocket}; logs: ${paths.logs}/{${nodeDaemon},${recorderDaemon}}.log`,
  );
  report('daemon', { address, recorderPid, daemonPid, socket: nodeRolePaths.recorderSocket });

  step('Create the seed profile: SeccompProfile my-namespace/profile1 (defaultAction SCMP_ACT_LOG)');
  await ensureNamespace(core);
  await resetNamespace(core, custom);
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1beta1',
    namespace: 'my-namespace',
    plural: 'seccompprofiles',
    body: {
      apiVersion: `${GROUP}/v1beta1`,
      kind: 'SeccompProfile',
      metadata: { namespace: 'my-namespace', name: 'profile1' },
      spec: { defaultAction: 'SCMP_ACT_LOG' },
    },
  });
  const file = join(paths.kubeletDir, 'seccomp/operator/my-namespace/profile1.json');
  await waitFor(() => existsSync(file), { what: `${file} to appear`, timeoutMs: 60_000 });
  const content = readFileSync(file, 'utf8');
  saw(`${file}:\n${content}`);
  const status = await waitFor(
    async () => {
      const s = (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: 'v1alpha1',
        namespace: 'my-namespace',
        plural: 'securityprofilenodestatuses',
        name: 'profile1-dev-node',
      })) as { status?: string };
      return s.status === 'Installed' ? s : false;
    },
    { what: 'node status Installed' },
  );
  saw(`SecurityProfileNodeStatus profile1-dev-node: ${status.status}`);
  report('profile-synced', { file, content, nodeStatus: status.status });

  step('Apply the profile to a pod (the seed test-pod, with the local busybox image)');
  const pod: V1Pod = {
    metadata: { name: 'test-pod', namespace: 'my-namespace' },
    spec: {
      terminationGracePeriodSeconds: 1,
      securityContext: {
        seccompProfile: { type: 'Localhost', localhostProfile: 'operator/my-namespace/profile1.json' },
      },
      containers: [
        { name: 'test-container', image: 'localhost/spo-test/busybox:1', command: ['sleep', '3600'] },
      ],
    },
  };
  await core.createNamespacedPod({ namespace: 'my-namespace', body: pod });
  const running = await waitFor(
    async () => {
      const p = await core.readNamespacedPod({ name: 'test-pod', namespace: 'my-namespace' });
      return p.status?.phase === 'Running' ? p : false;
    },
    { what: 'test-pod running', timeoutMs: 90_000 },
  );
  saw(
    `pod test-pod: ${running.status?.phase}, container ${running.status?.containerStatuses?.[0]?.containerID}\n` +
      `seccompProfile: ${JSON.stringify(running.spec?.securityContext?.seccompProfile)}`,
  );
  report('test-pod', {
    pod: 'test-pod',
    phase: running.status?.phase,
    containerID: running.status?.containerStatuses?.[0]?.containerID,
    seccompProfile: running.spec?.securityContext?.seccompProfile,
  });

  step('Bind the profile to an image: ProfileBinding busybox-binding (image localhost/spo-test/busybox:1)');
  const bindings = {
    group: GROUP,
    version: 'v1alpha1',
    namespace: 'my-namespace',
    plural: 'profilebindings',
  };
  await custom.deleteNamespacedCustomObject({ ...bindings, name: 'busybox-binding' }).catch(() => undefined);
  await custom.createNamespacedCustomObject({
    ...bindings,
    body: {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ProfileBinding',
      metadata: { name: 'busybox-binding', namespace: 'my-namespace' },
      spec: {
        profileRef: { kind: 'SeccompProfile', name: 'profile1' },
        image: 'localhost/spo-test/busybox:1',
      },
    },
  });
  // The manager labels the namespace for the binding webhook; pods created before that are not bound.
  await waitFor(
    async () =>
      (await core.readNamespace({ name: 'my-namespace' })).metadata?.labels?.[
        'spo.x-k8s.io/enable-binding'
      ] !== undefined,
    { what: 'namespace my-namespace labelled spo.x-k8s.io/enable-binding' },
  );
  const bound = await core.createNamespacedPod({
    namespace: 'my-namespace',
    body: {
      metadata: { generateName: 'bound-', namespace: 'my-namespace' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', image: 'localhost/spo-test/busybox:1', command: ['sleep', '3600'] }],
      },
    },
  });
  const injected = bound.spec?.containers[0]?.securityContext?.seccompProfile;
  saw(
    `pod ${bound.metadata?.name} was created without a securityContext; the webhook set:\n${JSON.stringify(injected)}`,
  );
  report('binding', { pod: bound.metadata?.name, injected });
  expect(
    injected?.localhostProfile === 'operator/my-namespace/profile1.json',
    'the binding injected the profile',
  );
  const profileStatus = await installedProfile(custom, 'profile1');
  saw(
    `kubectl get sp -o wide: profile1  ${profileStatus.status?.status}  ${profileStatus.status?.localhostProfile}` +
      `\nactiveWorkloads: ${(profileStatus.status?.activeWorkloads ?? []).join(', ') || '(updating)'}`,
  );
  report('profile-status', {
    name: 'profile1',
    status: profileStatus.status?.status,
    localhostProfile: profileStatus.status?.localhostProfile,
    activeWorkloads: profileStatus.status?.activeWorkloads ?? [],
  });

  await recordInCluster(core, custom);

  step('Metrics of the daemon (GET /metrics)');
  const metrics = await (await fetch(`${address}/metrics`)).text();
  const operatorLines = metrics.split('\n').filter((l) => l.startsWith('security_profiles_operator_'));
  saw(operatorLines.join('\n'));
  report('metrics', { lines: operatorLines });

  if (process.env['SPO_DEMO_CLEANUP'] === '1') await cleanUp(core);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error('demo: run as root (eBPF, mount namespaces and containers need it)');
  const work = mkdtempSync(join(tmpdir(), 'spo-demo-'));
  console.log(`seccomp-profiles-operator demo (work files in ${work})`);
  report('start', { work, pid: process.pid });
  await localRecording(work);
  await cluster();
  const hints = `   source .dev/env                      # KUBECONFIG=.dev/kubeconfig, NODE_NAME, KUBELET_DIR, ...
   kubectl get sp,spns -A               # any kubectl within one minor version of 1.36
   node dist/src/cli/main.js --help     # seccompctl
   npm run dev -- down                  # tear the local cluster down`;
  console.log(`\n== Done. Keep exploring:\n${hints}`);
  report('done', { hints: hints.split('\n').map((l) => l.trim()) });
}

main().catch((err: unknown) => {
  console.error(`\n${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
