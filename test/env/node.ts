// The node: a real kubelet built from the same Go modules, registered to the
// local apiserver as `dev-node`, running pods through our containerd. Its
// cgroups live under a private root (/spo-dev) so `down` can remove exactly
// what it created, and so it cannot meet another kubelet's /kubepods.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { apiserverTls, apiserverUrl, componentKubeconfig } from './controlplane.js';
import { get, healthy } from './http.js';
import { criEndpoint, nodeName, paths, podSubnet, ports } from './layout.js';
import { identities, pki } from './pki.js';
import { assertRunning, runningPid, startDaemon } from './processes.js';
import { waitFor } from './wait.js';

export const kubeletName = 'kubelet';
const cgroupRootName = 'spo-dev';

/** The first non-loopback IPv4 address: the kubelet refuses a loopback node IP. */
export function detectNodeIp(): string {
  const override = process.env.SPO_DEV_NODE_IP;
  if (override) return override;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('no non-loopback IPv4 address found for the node (set SPO_DEV_NODE_IP)');
}

/** Mount points of the cgroup v1 hierarchies and the v2 one, from /proc/self/mountinfo. */
function cgroupMounts(): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    const fstype = post?.split(' ')[0];
    if (fstype === 'cgroup' || fstype === 'cgroup2') {
      const mountPoint = pre?.split(' ')[4];
      if (mountPoint) out.push(mountPoint);
    }
  }
  return out;
}

/** The kubelet refuses a cgroup root that does not exist; cpuset children also need cpus/mems before use. */
function ensureCgroupRoot(): void {
  for (const mount of cgroupMounts()) {
    const dir = join(mount, cgroupRootName);
    if (!existsSync(dir)) mkdirSync(dir);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const parent = join(mount, file);
      const child = join(dir, file);
      if (existsSync(parent) && existsSync(child) && readFileSync(child, 'utf8').trim() === '') {
        writeFileSync(child, readFileSync(parent, 'utf8'));
      }
    }
  }
}

/** Removes the kubelet's cgroup tree, deepest first; only works once every container is gone. */
export function removeCgroupRoot(): string[] {
  const left: string[] = [];
  const remove = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) remove(join(dir, entry.name));
    }
    try {
      rmdirSync(dir);
    } catch (err) {
      left.push(`${dir}: ${(err as Error).message}`);
    }
  };
  for (const mount of cgroupMounts()) {
    const dir = join(mount, cgroupRootName);
    if (existsSync(dir)) remove(dir);
  }
  return left;
}

function writeKubeletConfig(nodeIp: string): void {
  mkdirSync(paths.kubeletDir, { recursive: true });
  mkdirSync(paths.podLogs, { recursive: true });
  // JSON is YAML: no serializer needed.
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: nodeIp,
    port: ports.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: ports.kubeletHealthz,
    containerRuntimeEndpoint: criEndpoint,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: `/${cgroupRootName}`,
    // Hosts here may still be on cgroup v1 (hybrid); 1.35+ refuses v1 unless told.
    failCgroupV1: false,
    failSwapOn: false,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: pki.caCert },
    },
    authorization: { mode: 'Webhook' },
    clusterDomain: 'cluster.local',
    resolvConf: '/etc/resolv.conf',
    podCIDR: podSubnet,
    podLogsDir: paths.podLogs,
    // Locally imported images cannot be pulled back: never garbage-collect them,
    // and never evict test pods because the build machine's disk is busy.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {
      'memory.available': '1Mi',
      'nodefs.available': '1%',
      'imagefs.available': '1%',
      'nodefs.inodesFree': '1%',
    },
    serializeImagePulls: false,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    registerNode: true,
    maxPods: 110,
  };
  writeFileSync(paths.kubeletConfig, `${JSON.stringify(config, null, 2)}\n`);
}

interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

async function nodeReady(): Promise<true> {
  const res = await get(`${apiserverUrl}/api/v1/nodes/${nodeName}`, apiserverTls());
  if (res.status !== 200) throw new Error(`node ${nodeName} not registered yet (${res.status})`);
  const node = JSON.parse(res.body) as { status?: { conditions?: NodeCondition[] } };
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True')
    throw new Error(`node ${nodeName} Ready=${ready?.status ?? '?'}: ${ready?.message ?? ''}`);
  return true;
}

export async function ensureKubelet(bin: string, nodeIp: string): Promise<void> {
  if (runningPid(kubeletName) === undefined) {
    ensureCgroupRoot();
    writeKubeletConfig(nodeIp);
    startDaemon(kubeletName, [
      join(bin, 'kubelet'),
      `--config=${paths.kubeletConfig}`,
      `--kubeconfig=${componentKubeconfig(identities.kubelet.file)}`,
      `--hostname-override=${nodeName}`,
      `--node-ip=${nodeIp}`,
      `--root-dir=${paths.kubeletDir}`,
      '--v=1',
    ]);
  }
  await waitFor(
    async () => {
      assertRunning(kubeletName);
      await healthy(`http://127.0.0.1:${ports.kubeletHealthz}/healthz`);
      return nodeReady();
    },
    { what: `kubelet and node ${nodeName} to be Ready`, timeoutMs: 120_000 },
  );
}
