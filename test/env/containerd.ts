// containerd with its CRI plugin on a private root, state and socket, so it
// never touches a system containerd; runc (and crun, as runtime handler
// "crun", when installed) from Debian; CNI from Debian's
// containernetworking-plugins with a private bridge and IPAM directory.
import { existsSync, mkdirSync, readFileSync, renameSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CriClient } from './cri.js';
import { cniBinDir, cniBridge, images, paths, podSubnet } from './layout.js';
import { assertRunning, pidsWithArg, runningPid, startDaemon, stopDaemon, stopPid } from './processes.js';
import { waitFor } from './wait.js';

export const containerdName = 'containerd';

function toml(value: string): string {
  return JSON.stringify(value);
}

/** Runtime handlers besides the default runc: the RuntimeClass of the same name selects one. */
export interface ExtraRuntimes {
  readonly crun?: string;
}

function runtimeTable(handler: string, binary: string): string {
  const key = `plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${handler}`;
  return `    [${key}]
      runtime_type = "io.containerd.runc.v2"
      [${key}.options]
        BinaryName = ${toml(binary)}
        SystemdCgroup = false
`;
}

function configText(runcPath: string, extra: ExtraRuntimes): string {
  return `version = 2
root = ${toml(paths.containerdRoot)}
state = ${toml(paths.containerdState)}
# Plugins that would probe for hardware or write outside our directories.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${toml(paths.containerdSocket)}

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = ${toml(`${paths.containerdRoot}/opt`)}

[plugins."io.containerd.grpc.v1.cri"]
  # Nothing can be pulled: the sandbox image is one we build and import.
  sandbox_image = ${toml(images.pause)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
${runtimeTable('runc', runtimeBinary('runc', runcPath))}${extra.crun !== undefined ? runtimeTable('crun', runtimeBinary('crun', extra.crun)) : ''}  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${toml(cniBinDir)}
    conf_dir = ${toml(paths.cniConfDir)}
    max_conf_num = 1
`;
}

/** Writes the configuration and CNI files; true when containerd's configuration changed. */
function writeConfig(runcPath: string, extra: ExtraRuntimes): boolean {
  mkdirSync(dirname(paths.containerdConfig), { recursive: true });
  mkdirSync(paths.containerdRoot, { recursive: true });
  mkdirSync(paths.containerdState, { recursive: true });
  const text = configText(runcPath, extra);
  const changed =
    !existsSync(paths.containerdConfig) || readFileSync(paths.containerdConfig, 'utf8') !== text;
  if (changed) writeFileSync(paths.containerdConfig, text);
  mkdirSync(paths.cniConfDir, { recursive: true });
  writeFileSync(
    `${paths.cniConfDir}/10-spo-dev.conflist`,
    `${JSON.stringify(
      {
        cniVersion: '1.0.0',
        name: 'spo-dev',
        plugins: [
          {
            type: 'bridge',
            bridge: cniBridge,
            isGateway: true,
            // No masquerade: pods only talk to the host, and iptables need not exist.
            ipMasq: false,
            hairpinMode: true,
            ipam: { type: 'host-local', ranges: [[{ subnet: podSubnet }]], dataDir: paths.cniDataDir },
          },
        ],
      },
      null,
      2,
    )}\n`,
  );
  return changed;
}

/** CAP_SYS_RESOURCE is bit 24 of the effective set; some VM sandboxes withhold it even from root. */
function hasCapSysResource(): boolean {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CapEff:'));
  return line ? (BigInt(`0x${line.split(/\s+/)[1]}`) & (1n << 24n)) !== 0n : true;
}

/**
 * crun refuses hybrid cgroups (v1 controllers plus a cgroup2 at /sys/fs/cgroup/unified) as soon as that
 * cgroup2 has a controller of its own ("cgroups in hybrid mode not supported, drop all controllers from
 * cgroupv2"); this VM leaves hugetlb there. runc and the kubelet use only the v1 hierarchies.
 */
function crunRefusesHybrid(): boolean {
  const CGROUP2_MAGIC = 0x63677270;
  try {
    if (statfsSync('/sys/fs/cgroup').type === CGROUP2_MAGIC) return false;
    if (statfsSync('/sys/fs/cgroup/unified').type !== CGROUP2_MAGIC) return false;
    return readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

/**
 * The runtime binary containerd's shim calls, or a wrapper around it that works around what this host lacks.
 * The kubelet gives sandboxes oom_score_adj -998 and Guaranteed pods -997; lowering it needs CAP_SYS_RESOURCE,
 * and without it the runtime's init dies before the container starts (runc: "can't get final child's PID from
 * pipe: EOF"). Where the capability is missing, the wrapper raises negative scores to 0 in the bundle (or exec
 * process) spec. For crun on a hybrid host it also runs crun in a private mount namespace without the cgroup2
 * mount, so crun sees (and uses) the v1 hierarchies only, as runc does. Nothing else changes.
 */
function runtimeBinary(name: 'runc' | 'crun', path: string): string {
  const clampOom = !hasCapSysResource();
  const hideUnified = name === 'crun' && crunRefusesHybrid();
  if (!clampOom && !hideUnified) return path;
  const wrapper = join(dirname(paths.containerdConfig), `${name}-wrapper`);
  // The unmount is lazy and private to the new mount namespace: the host's cgroup2 mount stays as it is.
  const exec = hideUnified
    ? `exec unshare --mount --propagation private sh -c 'umount -l /sys/fs/cgroup/unified && exec "$0" "$@"' ${JSON.stringify(path)} "$@"`
    : `exec ${JSON.stringify(path)} "$@"`;
  // Written aside and renamed: the shim may be running the old wrapper right now.
  writeFileSync(
    `${wrapper}.new`,
    `#!/bin/sh
# Generated by test/env/containerd.ts: see runtimeBinary() there for why.
${
  clampOom
    ? `prev=
for arg in "$@"; do
  spec=
  case "$prev" in
    --bundle|-b) spec="$arg/config.json" ;;
    --process|-p) spec="$arg" ;;
  esac
  if [ -n "$spec" ] && [ -f "$spec" ]; then
    sed -i -E 's/"oomScoreAdj":-[0-9]+/"oomScoreAdj":0/' "$spec"
  fi
  prev=$arg
done
`
    : ''
}${exec}
`,
    { mode: 0o755 },
  );
  renameSync(`${wrapper}.new`, wrapper);
  return wrapper;
}

export function criClient(): CriClient {
  return new CriClient(paths.containerdSocket);
}

/**
 * Starts containerd unless ours is already running; resolves when the CRI plugin reports RuntimeReady and
 * NetworkReady. A running containerd whose configuration is out of date (say crun was installed, or this file
 * gained a runtime handler) is restarted: containers keep running in their shims and the kubelet reconnects.
 */
export async function ensureContainerd(
  containerdPath: string,
  runcPath: string,
  extra: ExtraRuntimes = {},
): Promise<void> {
  const changed = writeConfig(runcPath, extra);
  if (changed && runningPid(containerdName) !== undefined) await stopDaemon(containerdName);
  if (runningPid(containerdName) === undefined) {
    startDaemon(containerdName, [containerdPath, '--config', paths.containerdConfig, '--log-level', 'info']);
  }
  const cri = criClient();
  try {
    await waitFor(
      async () => {
        assertRunning(containerdName);
        const conditions = await cri.status();
        const notReady = conditions.filter((c) => !c.status);
        if (conditions.length === 0 || notReady.length) {
          throw new Error(
            notReady.map((c) => `${c.type}: ${c.reason} ${c.message}`).join('; ') || 'no conditions yet',
          );
        }
        return true;
      },
      { what: "containerd's CRI plugin to be ready", timeoutMs: 60_000 },
    );
  } finally {
    cri.close();
  }
}

/**
 * Removes every pod sandbox (and so every container) in our containerd, then
 * stops it and any shim left behind: shims outlive containerd by design.
 */
export async function stopContainerd(): Promise<void> {
  if (runningPid(containerdName) !== undefined) {
    const cri = criClient();
    try {
      for (const sandbox of await cri.listPodSandboxes()) {
        await cri.stopPodSandbox(sandbox.id).catch(() => {});
        await cri.removePodSandbox(sandbox.id);
      }
    } finally {
      cri.close();
    }
  }
  await stopDaemon(containerdName);
  for (const pid of pidsWithArg(paths.containerdSocket)) await stopPid(pid, 'containerd shim');
}
