// Shared set-up for the recording flows: the real recorder and daemon roles against the local cluster, pods
// labelled and annotated exactly as the recording webhook would, and waits on the profiles they produce.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import type { Test } from 'tap';
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
import { paths } from '../../env/layout.js';
import { nativeBuilt } from '../../../src/recorder/native.js';
import type { SeccompProfile } from '../../../src/profiles/types.js';

export const GROUP = 'security-profiles-operator.x-k8s.io';

export interface Env {
  readonly cluster: Cluster;
  readonly custom: CustomObjectsApi;
  readonly ns: string;
  readonly socket: string;
  readonly stateDir: string;
  /** The recorder's pin directory, on a bpffs the test mounted for itself. */
  readonly pinDir: string;
  recorder: RoleProcess;
  daemon: RoleProcess;
}

/** What is missing to run these tests here, or undefined. */
export function recordingMissing(): string | undefined {
  return (
    rootMissing() ??
    (existsSync('/sys/kernel/btf/vmlinux') ? undefined : 'needs kernel BTF') ??
    (nativeBuilt() ? undefined : 'recorder addon not built: npm run build:native')
  );
}

/** `pinDir` none: nothing is pinned, so what containers do while the recorder is down is lost. */
export function startRecorder(
  socket: string,
  stateDir: string,
  pinDir: string,
  extra: readonly string[] = [],
): RoleProcess {
  return startRole([
    'recorder',
    '--socket',
    socket,
    '--state-dir',
    stateDir,
    '--bpf-pin-dir',
    pinDir,
    '--log-level',
    'debug',
    ...extra,
  ]);
}

/**
 * A bpffs of the test's own (not the host's /sys/fs/bpf, which may be missing and is shared): the recorder's pins
 * go in a directory in it, and unmounting it at the end ends any program a killed recorder left recording.
 */
export function testBpffs(t: Test, dir: string): string {
  const root = join(dir, 'bpffs');
  mkdirSync(root);
  execFileSync('mount', ['-t', 'bpf', 'bpf', root]);
  t.teardown(() => {
    rmSync(join(root, 'recorder'), { recursive: true, force: true });
    execFileSync('umount', [root]);
  });
  return join(root, 'recorder');
}

/** The daemon with its recording controller; `socket` is the recorder's (undefined: no bpf recording). */
export function startDaemon(
  cluster: Cluster,
  socket: string | undefined,
  extra: readonly string[] = [],
): RoleProcess {
  return startRole([
    'daemon',
    '--kubeconfig',
    paths.kubeconfig,
    '--node-name',
    cluster.nodeName,
    '--kubelet-dir',
    cluster.kubeletDir,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--insecure-metrics',
    ...(socket !== undefined ? ['--recorder-socket', socket] : []),
    ...extra,
  ]);
}

export const isMsg = (msg: string) => (l: Record<string, unknown>) => l.msg === msg;

export interface SetUpOptions {
  readonly recorderArgs?: readonly string[];
  readonly daemonArgs?: readonly string[];
}

/** Cluster, namespace, recorder and daemon; everything is torn down with the test. Undefined: skip. */
export async function setUp(t: Test, options: SetUpOptions = {}): Promise<Env | undefined> {
  const cluster = await requireCluster(t);
  if (cluster === undefined) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'spo-rec-'));
  const socket = join(dir, 'recorder.sock');
  const stateDir = join(dir, 'state');
  const pinDir = testBpffs(t, dir);
  const recorder = startRecorder(socket, stateDir, pinDir, options.recorderArgs);
  const env: Env = {
    cluster,
    custom: cluster.kc.makeApiClient(CustomObjectsApi),
    ns: await createNamespace(cluster, 'rec'),
    socket,
    stateDir,
    pinDir,
    recorder,
    daemon: undefined as unknown as RoleProcess,
  };
  t.teardown(async () => {
    await env.daemon?.stop();
    await env.recorder.stop();
    await deleteNamespace(cluster, env.ns);
  });
  await recorder.waitForLog(isMsg('recorder listening'), 120_000);
  env.daemon = startDaemon(cluster, socket, options.daemonArgs);
  await env.daemon.waitForLog(isMsg('recording controller started'), 120_000);
  return env;
}

export function skipUnlessReady(t: Test): boolean {
  const { skip } = requires(t, recordingMissing());
  if (skip) {
    t.plan(0, skip);
    return true;
  }
  return false;
}

export async function createRecording(
  env: Env,
  name: string,
  spec: Record<string, unknown> = {},
): Promise<void> {
  await env.custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1alpha1',
    plural: 'profilerecordings',
    namespace: env.ns,
    body: {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ProfileRecording',
      metadata: { name, namespace: env.ns },
      spec: { kind: 'SeccompProfile', recorder: 'bpf', podSelector: { matchLabels: { app: name } }, ...spec },
    },
  });
}

/** What the recording webhook adds to a pod it records (src/webhook/recording.ts). */
export function recordedMeta(recording: string, containers: readonly string[]) {
  return {
    labels: { app: recording, 'spo.x-k8s.io/recording-id': recording },
    annotations: Object.fromEntries(containers.map((c) => [`io.containers.trace-bpf/${c}`, recording])),
  };
}

export function demoContainer(
  name: string,
  args: string[],
): NonNullable<V1Pod['spec']>['containers'][number] {
  return { name, image: 'localhost/spo-test/demo:1', args, imagePullPolicy: 'Never' };
}

export async function getProfile(env: Env, name: string): Promise<SeccompProfile | undefined> {
  try {
    return (await env.custom.getNamespacedCustomObject({
      group: GROUP,
      version: 'v1beta1',
      plural: 'seccompprofiles',
      namespace: env.ns,
      name,
    })) as SeccompProfile;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

export async function listProfiles(env: Env): Promise<SeccompProfile[]> {
  const res = (await env.custom.listNamespacedCustomObject({
    group: GROUP,
    version: 'v1beta1',
    plural: 'seccompprofiles',
    namespace: env.ns,
  })) as { items: SeccompProfile[] };
  return res.items;
}

export function waitProfile(env: Env, name: string, timeoutMs = 90_000): Promise<SeccompProfile> {
  return waitFor(
    async () => {
      const p = await getProfile(env, name);
      if (p === undefined) throw new Error(`profile ${env.ns}/${name} not there yet`);
      return p;
    },
    { what: `SeccompProfile ${env.ns}/${name}`, timeoutMs },
  );
}

export function allowed(p: SeccompProfile): string[] {
  return (p.spec.syscalls ?? []).filter((s) => s.action === 'SCMP_ACT_ALLOW').flatMap((s) => s.names);
}

/** Lets a demo container waiting on `wait-file P` go on, from the host side. */
export async function release(pod: V1Pod, container: string, file = '/tmp/go'): Promise<void> {
  const cri = criClient();
  try {
    const pid = await containerHostPid(cri, pod, container);
    writeFileSync(`/proc/${pid}/root${file}`, '');
  } finally {
    cri.close();
  }
}

/** Waits until the daemon has told the recorder about `count` containers of pod `name`. */
export async function waitTracked(env: Env, pod: string, count = 1): Promise<void> {
  await waitFor(
    async () => {
      const n = env.daemon.lines.filter((l) => l.msg === 'tracking container' && l.pod === pod).length;
      if (n < count) throw new Error(`${n}/${count} containers of ${pod} tracked`);
      return true;
    },
    { what: `containers of ${pod} tracked`, timeoutMs: 60_000 },
  );
}
