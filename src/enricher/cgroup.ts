// A container ID is 64 hex digits, the last part of the container's cgroup path in every layout runc,
// crun, containerd and CRI-O use: cgroupfs `.../pod<uid>/<id>`, systemd `.../cri-containerd-<id>.scope`,
// `crio-<id>.scope`, `docker-<id>.scope`, optionally followed by a sub-cgroup (`.../<id>.scope/container`).
const ID_IN_PATH = /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?=\/|$)/g;

/** The container ID in one cgroup path, or undefined; conmon's own scope (crio-conmon-<id>) is not the container. */
export function containerIdFromCgroupPath(path: string): string | undefined {
  let found: string | undefined;
  for (const m of path.matchAll(ID_IN_PATH)) {
    const idStart = path.indexOf(m[1]!, m.index);
    if (path.slice(0, idStart).endsWith('conmon-')) continue;
    found = m[1];
  }
  return found;
}

/**
 * The container ID from /proc/<pid>/cgroup. The unified (v2) line wins; on v1 and hybrid hosts every
 * controller names the same cgroup, so the first line that holds an ID is used.
 */
export function containerIdFromProcCgroup(text: string): string | undefined {
  let v1: string | undefined;
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const id = containerIdFromCgroupPath(line.slice(second + 1));
    if (id === undefined) continue;
    if (line.startsWith('0::')) return id;
    v1 ??= id;
  }
  return v1;
}
