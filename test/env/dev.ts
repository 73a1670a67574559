// `scripts/dev up|down|status`: the local cluster for tests and the demo.
// `up` is idempotent (running, healthy parts are left alone) and returns once
// everything answers; `down` stops only what `up` started, removes every
// container, mount and cgroup it made, and wipes the cluster state.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerdName, criClient, ensureContainerd, stopContainerd } from './containerd.js';
import {
  apiserverTls,
  apiserverUrl,
  ensureApiserver,
  ensureControllerManager,
  ensureEtcd,
  ensureScheduler,
  writeKubeconfigs,
} from './controlplane.js';
import { get } from './http.js';
import { installCrds } from './crds.js';
import { ensureImages } from './images.js';
import {
  cniBinDir,
  cniBridge,
  criEndpoint,
  findOnPath,
  images,
  nodeName,
  paths,
  repoRoot,
} from './layout.js';
import { detectNodeIp, ensureKubelet, kubeletName, removeCgroupRoot } from './node.js';
import { nodeDaemon, recorderDaemon, stopNodeRoles } from './node-roles.js';
import { ensurePki } from './pki.js';
import { runningPid, stopDaemon } from './processes.js';
import { applyRuntimeClasses } from './runtime-classes.js';
import { waitFor } from './wait.js';

const daemons = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  containerdName,
  kubeletName,
];
/** Started only by `SPO_DEV_OPERATOR=1 scripts/dev up`: listed by `status`, but not needed for it to pass. */
const operatorDaemons = ['spo-manager', 'spo-webhook', recorderDaemon, nodeDaemon];

function log(msg: string): void {
  process.stderr.write(`[dev] ${msg}\n`);
}

async function timed<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
  const start = Date.now();
  const result = await fn();
  log(`${what} (${((Date.now() - start) / 1000).toFixed(1)}s)`);
  return result;
}

/** Everything `up` needs from the host, with the fix for each. Empty when all is present. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('must run as root (containers, mounts and cgroups)');
  const tools: [string, string][] = [
    ['containerd', 'apt-get install containerd'],
    ['containerd-shim-runc-v2', 'apt-get install containerd'],
    ['ctr', 'apt-get install containerd'],
    ['runc', 'apt-get install runc'],
    ['gcc', 'apt-get install gcc libc6-dev'],
    ['openssl', 'apt-get install openssl'],
    ['tar', 'apt-get install tar'],
    ['mount', 'apt-get install mount'],
    ['ip', 'apt-get install iproute2'],
    ['go', 'install Go >= 1.26 (scripts/setup)'],
  ];
  for (const [tool, fix] of tools) if (!findOnPath(tool)) missing.push(`${tool} not found: ${fix}`);
  for (const plugin of ['bridge', 'host-local', 'loopback']) {
    if (!existsSync(join(cniBinDir, plugin)))
      missing.push(`CNI plugin ${plugin} missing: apt-get install containernetworking-plugins`);
  }
  if (!existsSync('/usr/lib/x86_64-linux-gnu/libc.a') && !existsSync('/usr/lib/aarch64-linux-gnu/libc.a')) {
    missing.push('static libc missing: apt-get install libc6-dev');
  }
  if (!existsSync('/bin/busybox') && !existsSync('/usr/bin/busybox'))
    missing.push('busybox missing: apt-get install busybox-static');
  return missing;
}

function controlplaneBin(): string {
  return execFileSync(join(repoRoot, 'scripts/build-controlplane'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

function envFile(bin: string): string {
  const vars: Record<string, string> = {
    KUBECONFIG: paths.kubeconfig,
    SPO_CRI_ENDPOINT: criEndpoint,
    NODE_NAME: nodeName,
    KUBELET_DIR: paths.kubeletDir,
    TEST_IMAGE_BUSYBOX: images.busybox,
    TEST_IMAGE_PAUSE: images.pause,
    TEST_IMAGE_DEMO: images.demo,
    // So `ctr` talks to our containerd in the CRI namespace without flags.
    CONTAINERD_ADDRESS: paths.containerdSocket,
    CONTAINERD_NAMESPACE: 'k8s.io',
    SPO_DEV_BIN: bin,
  };
  return `${Object.entries(vars)
    .map(([k, v]) => `export ${k}='${v.replaceAll("'", "'\\''")}'`)
    .join('\n')}\n`;
}

async function waitForDefaultServiceAccount(): Promise<void> {
  // Pods are refused until the controller-manager made the namespace's default SA.
  await waitFor(
    async () =>
      (await get(`${apiserverUrl}/api/v1/namespaces/default/serviceaccounts/default`, apiserverTls()))
        .status === 200,
    { what: 'the default ServiceAccount in namespace default', timeoutMs: 60_000 },
  );
}

export async function up(): Promise<void> {
  const missing = missingPrerequisites();
  if (missing.length) throw new Error(`missing prerequisites:\n  - ${missing.join('\n  - ')}`);
  const started = Date.now();
  mkdirSync(paths.dev, { recursive: true });
  const bin = await timed('control-plane binaries', controlplaneBin);
  const nodeIp = detectNodeIp();
  await timed('pki', () => ensurePki(nodeIp));
  writeKubeconfigs();
  await timed('etcd ready', () => ensureEtcd(bin));
  await timed('kube-apiserver ready', () => ensureApiserver(bin, nodeIp));
  const containerd = findOnPath('containerd') as string;
  const runc = findOnPath('runc') as string;
  // Optional: with crun installed, pods can ask for it with `runtimeClassName: crun`.
  const crun = findOnPath('crun');
  await timed('containerd ready', () =>
    ensureContainerd(containerd, runc, crun !== undefined ? { crun } : {}),
  );
  await timed('test images imported', async () => {
    const cri = criClient();
    try {
      await ensureImages(cri, paths.containerdSocket);
    } finally {
      cri.close();
    }
  });
  await timed('kube-controller-manager ready', () => ensureControllerManager(bin));
  await timed('kube-scheduler ready', () => ensureScheduler(bin));
  await timed(`kubelet ready, node ${nodeName} Ready`, () => ensureKubelet(bin, nodeIp));
  await timed('default ServiceAccount', waitForDefaultServiceAccount);
  const crds = await timed('CRDs applied', installCrds);
  if (crun !== undefined) await timed('RuntimeClass crun applied', () => applyRuntimeClasses(['crun']));
  if (process.env['SPO_DEV_OPERATOR'] === '1') {
    // Loaded here, not at the top: `down` and `status` must work without the Kubernetes client.
    const { ensureOperator } = await import('./operator.js');
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromFile(paths.kubeconfig);
    await timed('operator webhook + manager ready', () => ensureOperator(kc));
    // The node's roles too, so the cluster works as an installed operator does (recording included).
    const { ensureNodeRoles } = await import('./node-roles.js');
    await timed(`recorder + daemon for ${nodeName} ready`, ensureNodeRoles);
  }
  writeFileSync(paths.env, envFile(bin));
  log(
    `up in ${((Date.now() - started) / 1000).toFixed(1)}s; CRDs: ${crds.length ? crds.join(', ') : '(none in manifests/crds)'}`,
  );
  log(`use it with: source ${paths.env}`);
}

/** Mount points at or under `dir`, deepest first (mountinfo escapes spaces and such as octal). */
function mountsUnder(dir: string): string[] {
  const unoctal = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => unoctal(line.split(' ')[4] ?? ''))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

function unmountAll(dir: string): void {
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnder(dir);
    if (!mounts.length) return;
    for (const m of mounts) {
      try {
        execFileSync('umount', [m], { stdio: 'ignore' });
      } catch {
        try {
          execFileSync('umount', ['-l', m], { stdio: 'ignore' });
        } catch {}
      }
    }
  }
  const left = mountsUnder(dir);
  if (left.length) throw new Error(`could not unmount: ${left.join(', ')}`);
}

export async function down(): Promise<void> {
  const started = Date.now();
  // The operator first: its watches would otherwise hold the apiserver's shutdown up.
  await timed(`${nodeDaemon} + ${recorderDaemon} stopped`, stopNodeRoles);
  for (const name of ['spo-webhook', 'spo-manager']) await timed(`${name} stopped`, () => stopDaemon(name));
  // The kubelet first, or it would restart the containers we remove next.
  await timed('kubelet stopped', () => stopDaemon(kubeletName));
  await timed('pods removed, containerd stopped', stopContainerd);
  for (const name of ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd']) {
    await timed(`${name} stopped`, () => stopDaemon(name));
  }
  unmountAll(paths.dev);
  const cgroupsLeft = removeCgroupRoot();
  if (cgroupsLeft.length) log(`warning: cgroups left behind:\n  ${cgroupsLeft.join('\n  ')}`);
  if (existsSync(`/sys/class/net/${cniBridge}`))
    execFileSync('ip', ['link', 'delete', cniBridge], { stdio: 'ignore' });
  rmSync(paths.state, { recursive: true, force: true });
  rmSync(paths.env, { force: true });
  rmSync(paths.startedByTests, { force: true });
  log(`down in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

export async function status(): Promise<boolean> {
  let allUp = true;
  for (const name of daemons) {
    const pid = runningPid(name);
    if (pid === undefined) allUp = false;
    process.stdout.write(`${name.padEnd(24)} ${pid === undefined ? 'stopped' : `running (pid ${pid})`}\n`);
  }
  for (const name of operatorDaemons) {
    const pid = runningPid(name);
    const state =
      pid === undefined ? 'stopped (SPO_DEV_OPERATOR=1 scripts/dev up starts it)' : `running (pid ${pid})`;
    process.stdout.write(`${name.padEnd(24)} ${state}\n`);
  }
  if (runningPid('kube-apiserver') !== undefined) {
    const readyz = await get(`${apiserverUrl}/readyz`, apiserverTls()).catch((e: Error) => ({
      status: 0,
      body: e.message,
    }));
    process.stdout.write(
      `${'apiserver /readyz'.padEnd(24)} ${readyz.status} ${readyz.body.trim().slice(0, 80)}\n`,
    );
    const node = await get(`${apiserverUrl}/api/v1/nodes/${nodeName}`, apiserverTls()).catch(() => undefined);
    const ready =
      node?.status === 200
        ? (
            JSON.parse(node.body) as { status?: { conditions?: { type: string; status: string }[] } }
          ).status?.conditions?.find((c) => c.type === 'Ready')?.status
        : 'not registered';
    process.stdout.write(`${`node ${nodeName} Ready`.padEnd(24)} ${ready}\n`);
    if (ready !== 'True' || readyz.status !== 200) allUp = false;
  }
  if (existsSync(paths.env)) process.stdout.write(`env file                 ${paths.env}\n`);
  return allUp;
}

async function main(): Promise<number> {
  // `scripts/dev status | head` closes stdout early; that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const cmd = process.argv[2];
  try {
    switch (cmd) {
      case 'up':
        await up();
        return 0;
      case 'down':
        await down();
        return 0;
      case 'status':
        return (await status()) ? 0 : 1;
      default:
        process.stderr.write('usage: scripts/dev up|down|status\n');
        return 2;
    }
  } catch (err) {
    log(`error: ${(err as Error).message}`);
    if (cmd === 'up') log(`logs: ${paths.logs}/`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
