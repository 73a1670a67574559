// The local cluster for integration tests: starts it once (idempotently, via
// `scripts/dev up`) and gives typed clients and pod helpers. A run that
// started the cluster tears it down in tap's `after` script (test/env/tap-after.ts);
// a cluster the developer started with `scripts/dev up` is left running.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  type V1Pod,
} from '@kubernetes/client-node';
import { apiserverTls, apiserverUrl } from '../env/controlplane.js';
import { missingPrerequisites } from '../env/dev.js';
import { get } from '../env/http.js';
import { images, nodeName, paths, repoRoot } from '../env/layout.js';
import { runningPid } from '../env/processes.js';
import { waitFor } from '../env/wait.js';

export { images, nodeName } from '../env/layout.js';
export { waitFor } from '../env/wait.js';

export interface Cluster {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  apiext: ApiextensionsV1Api;
  objects: KubernetesObjectApi;
  nodeName: string;
  kubeletDir: string;
  criEndpoint: string;
  images: typeof images;
}

/** The subset of a tap Test the helpers use, so they work with any tap version. */
export interface TapLike {
  fail(message: string): unknown;
  plan(n: number, comment?: string): unknown;
  comment(...args: unknown[]): unknown;
}

const inCI = () => process.env.CI === 'true' || process.env.CI === '1';

async function clusterReady(): Promise<boolean> {
  if (!existsSync(paths.env) || !existsSync(paths.kubeconfig)) return false;
  try {
    const readyz = await get(`${apiserverUrl}/readyz`, { ...apiserverTls(), timeoutMs: 2_000 });
    if (readyz.status !== 200) return false;
    const node = await get(`${apiserverUrl}/api/v1/nodes/${nodeName}`, {
      ...apiserverTls(),
      timeoutMs: 2_000,
    });
    if (node.status !== 200) return false;
    const conditions = (
      JSON.parse(node.body) as { status?: { conditions?: { type: string; status: string }[] } }
    ).status?.conditions;
    return conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  } catch {
    return false;
  }
}

function controlplaneBuilt(): boolean {
  const res = spawnSync(join(repoRoot, 'scripts/build-controlplane'), ['--print'], { encoding: 'utf8' });
  return res.status === 0 && existsSync(join(res.stdout.trim(), 'kube'));
}

function clients(): Cluster {
  const kc = new KubeConfig();
  kc.loadFromFile(paths.kubeconfig);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    apiext: kc.makeApiClient(ApiextensionsV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
    nodeName,
    kubeletDir: paths.kubeletDir,
    criEndpoint: `unix://${paths.containerdSocket}`,
    images,
  };
}

/**
 * Makes sure the local cluster is up and returns clients for it. When a
 * prerequisite is missing it fails the test in CI (`CI=true`) and otherwise
 * plans zero tests with the reason (tap reports the file as skipped); either
 * way it then returns undefined and the caller should return.
 */
export async function requireCluster(t: TapLike): Promise<Cluster | undefined> {
  if (await clusterReady()) return clients();
  const missing = missingPrerequisites();
  if (!missing.length && !controlplaneBuilt()) {
    missing.push(
      'control-plane binaries not built: run scripts/setup (or scripts/build-controlplane, 10-20 min cold)',
    );
  }
  if (missing.length) {
    const reason = `local cluster unavailable: ${missing.join('; ')}`;
    if (inCI()) t.fail(reason);
    else t.plan(0, reason);
    return undefined;
  }
  // Recorded before `up` so a half-started environment is still torn down after
  // the run; a cluster someone started by hand (apiserver running) is not ours to stop.
  if (runningPid('kube-apiserver') === undefined) {
    mkdirSync(paths.dev, { recursive: true });
    writeFileSync(paths.startedByTests, `${process.pid}\n`);
  }
  const res = spawnSync(join(repoRoot, 'scripts/dev'), ['up'], { stdio: ['ignore', 2, 2], encoding: 'utf8' });
  if (res.status !== 0) {
    t.fail(`scripts/dev up failed (exit ${res.status}); logs in ${paths.logs}`);
    return undefined;
  }
  return clients();
}

/**
 * A KubeConfig that acts as the given service account: admin credentials with
 * `Impersonate-User: system:serviceaccount:<ns>:<name>`. The apiserver adds the
 * service-account groups itself, so RBAC sees exactly what the account's pod would.
 */
export function impersonate(serviceAccount: { namespace: string; name: string }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(paths.kubeconfig);
  const user = kc.getCurrentUser();
  if (!user) throw new Error(`no current user in ${paths.kubeconfig}`);
  const users = kc.users.map((u) =>
    u.name === user.name
      ? { ...u, impersonateUser: `system:serviceaccount:${serviceAccount.namespace}:${serviceAccount.name}` }
      : u,
  );
  kc.loadFromOptions({
    clusters: kc.clusters,
    users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return kc;
}

let nsCounter = 0;

/** Creates a uniquely named namespace and waits for its default ServiceAccount (pods are refused until it exists). */
export async function createNamespace(cluster: Cluster, prefix = 't'): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${nsCounter++}`.slice(0, 63);
  await cluster.core.createNamespace({ body: { metadata: { name } } });
  await waitFor(
    () => cluster.core.readNamespacedServiceAccount({ name: 'default', namespace: name }).then(() => true),
    {
      what: `default ServiceAccount in ${name}`,
      timeoutMs: 30_000,
    },
  );
  return name;
}

export async function deleteNamespace(cluster: Cluster, name: string): Promise<void> {
  await cluster.core.deleteNamespace({ name }).catch(() => {});
}

const fatalWaiting = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerError',
  'CreateContainerConfigError',
  'CrashLoopBackOff',
  'RunContainerError',
]);

/**
 * Creates a pod and waits until every container is running. Fails fast, with
 * the kubelet's reason, when a container cannot start or the pod fails. Unless
 * the pod says otherwise, termination grace is 1 s: test pods have nothing to flush.
 */
export async function createPodAndWait(cluster: Cluster, pod: V1Pod, timeoutMs = 90_000): Promise<V1Pod> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const body: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    ...pod,
    metadata: { ...pod.metadata, namespace },
    spec: { terminationGracePeriodSeconds: 1, ...pod.spec, containers: pod.spec?.containers ?? [] },
  };
  const created = await cluster.core.createNamespacedPod({ namespace, body });
  const name = created.metadata?.name as string;
  return waitFor(
    async () => {
      const p = await cluster.core.readNamespacedPod({ name, namespace });
      const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
      for (const s of statuses) {
        const reason = s.state?.waiting?.reason;
        if (reason && fatalWaiting.has(reason))
          throw Object.assign(
            new Error(`container ${s.name}: ${reason}: ${s.state?.waiting?.message ?? ''}`),
            { fatal: true },
          );
      }
      if (p.status?.phase === 'Failed')
        throw Object.assign(new Error(`pod ${namespace}/${name} Failed: ${p.status.message ?? ''}`), {
          fatal: true,
        });
      const running =
        p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((s) => s.state?.running);
      if (!running) throw new Error(`pod ${namespace}/${name} phase ${p.status?.phase ?? '?'}`);
      return p;
    },
    {
      what: `pod ${namespace}/${name} to run`,
      timeoutMs,
      failFast: (err) => (err as { fatal?: boolean }).fatal === true,
    },
  );
}

/** Deletes a pod and waits until the API no longer has it (the kubelet has then removed its containers). */
export async function deletePodAndWait(
  cluster: Cluster,
  name: string,
  namespace = 'default',
  timeoutMs = 60_000,
): Promise<void> {
  await cluster.core.deleteNamespacedPod({ name, namespace });
  await waitFor(
    () =>
      cluster.core.readNamespacedPod({ name, namespace }).then(
        () => false,
        (err: { code?: number }) => {
          if (err.code === 404) return true;
          throw err;
        },
      ),
    { what: `pod ${namespace}/${name} to be deleted`, timeoutMs },
  );
}
