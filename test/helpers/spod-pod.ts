// The pod of a rendered DaemonSet run as host processes: the local kubelet cannot run the operator image, so
// each container becomes `seccompctl <container.args>` with the container's env. hostCommand() is the whole
// translation and the only place where what runs may differ from what the manager rendered; everything it
// does not mention (flags, env names and values, the socket and state layout) is passed through unchanged.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { V1Container, V1EnvVar, V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { type RoleProcess, startRole } from './role-process.js';

/** What differs between a node the DaemonSet was written for and this machine. */
export interface HostView {
  readonly nodeName: string;
  /** The pod's namespace (for `fieldRef: metadata.namespace`). */
  readonly namespace: string;
  /** Per pod: its emptyDirs, Secrets and the hostPath directories it would create live under here. */
  readonly podDir: string;
  /** hostPath prefixes that are somewhere else on this machine, as [in the manifest, here]. */
  readonly hostPaths: ReadonlyArray<readonly [string, string]>;
  /** Stands in for the service account token the pod would mount: the kubeconfig acting as that account. */
  readonly kubeconfig: string;
}

export interface HostCommand {
  readonly role: string;
  readonly args: string[];
  /** For startRole: the container's env; every variable of the test process not in KEPT_ENV is unset. */
  readonly env: NodeJS.ProcessEnv;
  /** Each change made to the rendered args and env, as "before -> after", for the test log. */
  readonly changes: string[];
}

/** A container starts without the test's environment (KUBECONFIG, SPO_*, NODE_NAME, NODE_OPTIONS, ...). */
const KEPT_ENV = new Set(['PATH', 'HOME', 'TMPDIR', 'LANG']);
const LOOPBACK = '127.0.0.1';

/** Where a volume's contents are on this machine. */
export function volumeHostPath(volume: V1Volume, view: HostView): string {
  // Filled by whoever sets up the pod (startSpodPod for Secrets), as the kubelet would.
  if (volume.emptyDir !== undefined || volume.secret !== undefined) return join(view.podDir, volume.name);
  const hostPath = volume.hostPath?.path;
  if (hostPath === undefined)
    throw new Error(`volume ${volume.name}: only emptyDir, secret and hostPath volumes can run on this host`);
  for (const [from, to] of view.hostPaths) {
    if (hostPath === from || hostPath.startsWith(`${from}/`)) return to + hostPath.slice(from.length);
  }
  // A directory the kubelet would create on the node: created per pod here, so a run leaves nothing behind.
  if (volume.hostPath?.type === 'DirectoryOrCreate') return join(view.podDir, 'host', hostPath);
  return hostPath;
}

function mountsOf(pod: V1PodSpec, container: V1Container, view: HostView): Array<[V1VolumeMount, string]> {
  return (container.volumeMounts ?? []).map((m) => {
    const volume = pod.volumes?.find((v) => v.name === m.name);
    if (volume === undefined) throw new Error(`container ${container.name} mounts unknown volume ${m.name}`);
    return [m, join(volumeHostPath(volume, view), m.subPath ?? '')];
  });
}

/**
 * A path as the container sees it, on this machine: under a mount, the mount's host path; the parent of a
 * mount (KUBELET_DIR=/var/lib/kubelet with /var/lib/kubelet/seccomp mounted), the host directory whose child
 * the mount is. Anything else is in the image only, and a role that is given such a path is a render bug.
 */
function hostPathOf(path: string, mounts: Array<[V1VolumeMount, string]>, container: string): string {
  const norm = posix.normalize(path);
  const inside = mounts
    .filter(([m]) => norm === m.mountPath || norm.startsWith(`${m.mountPath}/`))
    .sort(([a], [b]) => b.mountPath.length - a.mountPath.length)[0];
  if (inside !== undefined) return inside[1] + norm.slice(inside[0].mountPath.length);
  for (const [m, host] of mounts) {
    if (!m.mountPath.startsWith(`${norm}/`)) continue;
    const rest = m.mountPath.slice(norm.length);
    if (host.endsWith(rest)) return host.slice(0, -rest.length);
  }
  throw new Error(`container ${container} is given ${path}, which is on none of its volumes`);
}

function translateValue(value: string, mounts: Array<[V1VolumeMount, string]>, container: string): string {
  if (value.startsWith('unix:///')) return `unix://${hostPathOf(value.slice(7), mounts, container)}`;
  if (value.startsWith('/')) return hostPathOf(value, mounts, container);
  return value;
}

function envValue(e: V1EnvVar, view: HostView, container: string): string {
  if (e.valueFrom === undefined) return e.value ?? '';
  const field = e.valueFrom.fieldRef?.fieldPath;
  if (field === 'spec.nodeName') return view.nodeName;
  if (field === 'metadata.namespace') return view.namespace;
  throw new Error(`container ${container}: env ${e.name} comes from ${JSON.stringify(e.valueFrom)}`);
}

/**
 * The host command for one container of `pod`. Changed, and only these: paths in args and env values (to
 * where their volumes are here); `--port=<a containerPort>` to `--port=0` plus `--host=127.0.0.1` (a pod has
 * its own network namespace, the host does not); `fieldRef` env resolved; KUBECONFIG added for the in-cluster
 * credentials. hostPID, capabilities, runAsUser and the read-only root are not reproduced: the processes run
 * as the test (root, host PID namespace).
 */
export function hostCommand(pod: V1PodSpec, container: V1Container, view: HostView): HostCommand {
  const mounts = mountsOf(pod, container, view);
  const changes: string[] = [];
  const ports = new Set((container.ports ?? []).map((p) => String(p.containerPort)));
  const args: string[] = [];
  for (const arg of container.args ?? []) {
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? '' : arg.slice(0, eq);
    const value = eq === -1 ? arg : arg.slice(eq + 1);
    let out: string;
    if (flag === '--port' && ports.has(value)) out = '--port=0';
    else {
      const translated = translateValue(value, mounts, container.name);
      out = eq === -1 ? translated : `${flag}=${translated}`;
    }
    if (out !== arg) changes.push(`${arg} -> ${out}`);
    args.push(out);
  }
  if (ports.size > 0) {
    args.push(`--host=${LOOPBACK}`);
    changes.push(`+ --host=${LOOPBACK}`);
  }
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => !KEPT_ENV.has(k))
      .map((k) => [k, undefined]),
  );
  for (const e of container.env ?? []) {
    const raw = envValue(e, view, container.name);
    const value = translateValue(raw, mounts, container.name);
    if (e.valueFrom !== undefined || value !== raw)
      changes.push(`${e.name}=${e.value ?? '<fieldRef>'} -> ${value}`);
    env[e.name] = value;
  }
  env['KUBECONFIG'] = view.kubeconfig;
  changes.push(`+ KUBECONFIG=${view.kubeconfig}`);
  return { role: args[0] ?? '', args, env, changes };
}

export interface SpodPodProcess {
  readonly name: string;
  readonly command: HostCommand;
  readonly process: RoleProcess;
}

/**
 * Starts every container of `pod` at once, as the kubelet does, after creating its emptyDirs and writing its
 * Secrets (`secrets(name)` gives a Secret's data, decoded) with the volume's mode.
 */
export function startSpodPod(
  pod: V1PodSpec,
  view: HostView,
  secrets: (name: string) => Record<string, Buffer>,
): SpodPodProcess[] {
  for (const v of pod.volumes ?? []) {
    if (v.emptyDir !== undefined) mkdirSync(volumeHostPath(v, view), { recursive: true, mode: 0o700 });
    if (v.secret !== undefined) {
      const dir = volumeHostPath(v, view);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const [key, data] of Object.entries(secrets(v.secret.secretName ?? v.name))) {
        writeFileSync(join(dir, key), data, { mode: v.secret.defaultMode ?? 0o644 });
      }
    }
    if (v.hostPath?.type === 'DirectoryOrCreate') mkdirSync(volumeHostPath(v, view), { recursive: true });
  }
  return pod.containers.map((c) => {
    const command = hostCommand(pod, c, view);
    return { name: c.name, command, process: startRole(command.args, command.env) };
  });
}
