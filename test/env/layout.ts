// Where the local environment keeps its files, which ports it uses, and the
// stable names tests and `scripts/dev` agree on. Everything lives under
// `.dev/` in the checkout (gitignored): `down` can then prove it left nothing behind.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw new Error(`${name}=${raw} is not a TCP port`);
  return port;
}

// Off the usual defaults so a real cluster on the same host does not collide.
export const ports = {
  etcdClient: envPort('SPO_DEV_ETCD_PORT', 12379),
  etcdPeer: envPort('SPO_DEV_ETCD_PEER_PORT', 12380),
  apiserver: envPort('SPO_DEV_APISERVER_PORT', 16443),
  controllerManager: envPort('SPO_DEV_KCM_PORT', 20257),
  scheduler: envPort('SPO_DEV_SCHEDULER_PORT', 20259),
  kubelet: envPort('SPO_DEV_KUBELET_PORT', 20250),
  kubeletHealthz: envPort('SPO_DEV_KUBELET_HEALTHZ_PORT', 20248),
};

export const nodeName = 'dev-node';
export const podSubnet = process.env.SPO_DEV_POD_SUBNET ?? '10.88.64.0/24';
export const serviceSubnet = '10.0.0.0/24';
export const cniBridge = 'spo-cni0';
export const cniBinDir = '/usr/lib/cni';

export const images = {
  busybox: 'localhost/spo-test/busybox:1',
  pause: 'localhost/spo-test/pause:1',
  demo: 'localhost/spo-test/demo:1',
};

const devDir = resolve(process.env.SPO_DEV_DIR ?? join(repoRoot, '.dev'));
const state = join(devDir, 'state');

export const paths = {
  dev: devDir,
  kubeconfig: join(devDir, 'kubeconfig'),
  env: join(devDir, 'env'),
  logs: join(devDir, 'logs'),
  pids: join(devDir, 'pids'),
  pki: join(devDir, 'pki'),
  imagesOut: join(devDir, 'images'),
  startedByTests: join(devDir, 'started-by-tests'),
  lock: join(devDir, 'lock'),
  // Wiped by `down`: a fresh `up` starts from an empty cluster.
  state,
  etcdData: join(state, 'etcd'),
  kubeconfigs: join(state, 'kubeconfigs'),
  containerdRoot: join(state, 'containerd/root'),
  containerdState: join(state, 'containerd/state'),
  containerdConfig: join(state, 'containerd/config.toml'),
  containerdSocket: join(state, 'containerd/containerd.sock'),
  cniConfDir: join(state, 'cni/net.d'),
  cniDataDir: join(state, 'cni/ipam'),
  kubeletDir: join(state, 'kubelet'),
  kubeletConfig: join(state, 'kubelet-config.yaml'),
  podLogs: join(state, 'pod-logs'),
  kcmCerts: join(state, 'kcm-certs'),
  schedulerCerts: join(state, 'scheduler-certs'),
};

export const criEndpoint = `unix://${paths.containerdSocket}`;

export function crdDir(): string {
  return join(repoRoot, 'manifests/crds');
}

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}
