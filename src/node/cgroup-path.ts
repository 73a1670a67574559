/** A CRI container id: 64 lowercase hex digits (containerd, CRI-O, Docker). */
export const CONTAINER_ID = /^[0-9a-f]{64}$/;

// Runtime-specific scope and directory names around the id. conmon (CRI-O's monitor) lives in
// `crio-conmon-<id>.scope`: it mentions the id but is not the container, so it never matches.
const ID_SEGMENT = /^(?:(?:crio|cri-containerd|docker|libpod)-)?([0-9a-f]{64})(?:\.scope)?$/;

/** The container id a cgroup directory name stands for, or undefined (conmon, pods, slices). */
export function containerIdOfSegment(segment: string): string | undefined {
  return ID_SEGMENT.exec(segment)?.[1];
}

/** The container id in a cgroup path: its last container segment ("docker in docker" nests them). */
export function containerIdOfPath(path: string): string | undefined {
  let found: string | undefined;
  for (const segment of path.split('/')) found = containerIdOfSegment(segment) ?? found;
  return found;
}

export interface ProcCgroupLine {
  readonly hierarchy: string;
  readonly controllers: readonly string[];
  readonly path: string;
}

/** /proc/<pid>/cgroup: "hierarchy-ID:controller-list:path" per line; v2 is "0::path". */
export function parseProcCgroup(text: string): ProcCgroupLine[] {
  const out: ProcCgroupLine[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    const controllers = line.slice(first + 1, second);
    out.push({
      hierarchy: line.slice(0, first),
      controllers: controllers === '' ? [] : controllers.split(','),
      path: line.slice(second + 1),
    });
  }
  return out;
}

/** Whether a process with this /proc/<pid>/cgroup content runs in container `id` (not in its conmon). */
export function procCgroupHasContainer(text: string, id: string): boolean {
  return parseProcCgroup(text).some((l) => containerIdOfPath(l.path) === id);
}

/** The container a process runs in, from its /proc/<pid>/cgroup, or undefined for host processes. */
export function containerIdOfProcCgroup(text: string): string | undefined {
  for (const l of parseProcCgroup(text)) {
    const id = containerIdOfPath(l.path);
    if (id !== undefined) return id;
  }
  return undefined;
}

/**
 * The directory of a systemd unit name: a slice's dashes spell its parents
 * (`kubepods-besteffort-pod1.slice` is `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice`).
 */
export function expandSlice(slice: string): string {
  if (!slice.endsWith('.slice')) return slice;
  const parts = slice.slice(0, -'.slice'.length).split('-');
  const out: string[] = [];
  for (let i = 1; i <= parts.length; i++) out.push(`${parts.slice(0, i).join('-')}.slice`);
  return out.join('/');
}

/**
 * A runtime's cgroupsPath as a path relative to the cgroup root. The systemd driver gives
 * `<slice>:<prefix>:<id>` (the scope is `<prefix>-<id>.scope`); cgroupfs gives a path.
 */
export function cgroupsPathToRelative(cgroupsPath: string): string {
  const systemd = /^([^:/]+\.slice):([^:]+):([^:]+)$/.exec(cgroupsPath);
  if (systemd !== null) {
    const [, slice, prefix, name] = systemd as unknown as [string, string, string, string];
    const scope = name.endsWith('.scope') ? name : `${prefix}-${name}.scope`;
    return `${expandSlice(slice)}/${scope}`;
  }
  return cgroupsPath.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * Where a relative container cgroup may be under each hierarchy root. CRI-O sometimes reports a path relative
 * to kubepods.slice, so both the path and its `kubepods.slice/`-prefixed (or unprefixed) variant are tried.
 */
export function cgroupDirCandidates(relative: string, roots: readonly string[]): string[] {
  const variants = [relative];
  if (relative.startsWith('kubepods-')) variants.push(`kubepods.slice/${relative}`);
  if (relative.startsWith('kubepods.slice/')) variants.push(relative.slice('kubepods.slice/'.length));
  const out: string[] = [];
  for (const root of roots) {
    for (const v of variants) {
      const dir = v === '' ? root : `${root.replace(/\/+$/, '')}/${v}`;
      if (!out.includes(dir)) out.push(dir);
    }
  }
  return out;
}

/**
 * The roots to look under: on v2 the mount itself; on v1 (and hybrid) the hierarchies that always hold every
 * container: the named systemd one, pids, memory, and the v2 `unified` mount of a hybrid host.
 */
export function hierarchyRoots(base: string, unified: boolean): string[] {
  const b = base.replace(/\/+$/, '');
  if (unified) return [b];
  return ['systemd', 'unified', 'pids', 'memory', 'cpu,cpuacct', 'cpu'].map((h) => `${b}/${h}`);
}

/** pids in a cgroup.procs file; the first is the oldest (the container's init, usually). */
export function parseCgroupProcs(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const n = Number(line.trim());
    if (line.trim() !== '' && Number.isSafeInteger(n) && n > 0) out.push(n);
  }
  return out;
}

/** The directory the kubelet puts every pod under: `kubepods` (cgroupfs driver) or `kubepods.slice` (systemd). */
export function isKubepodsDir(name: string): boolean {
  return name === 'kubepods' || name === 'kubepods.slice';
}

/**
 * Where the kubelet's pod cgroups are, under one hierarchy root, given a directory lister: `kubepods` directly
 * or below a `--cgroup-root` (`/spo-dev/kubepods`), at most `maxDepth` levels down. Container directories are
 * never descended into, and at most `maxDirs` directories are looked at.
 */
export function findKubepods(
  root: string,
  list: (dir: string) => readonly { name: string; isDir: boolean }[],
  maxDepth = 3,
  maxDirs = 2_000,
): string[] {
  const found: string[] = [];
  let queue: string[] = [root];
  let seen = 0;
  for (let depth = 0; depth < maxDepth && queue.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of queue) {
      for (const e of list(dir)) {
        if (!e.isDir || seen++ >= maxDirs) continue;
        const path = `${dir.replace(/\/+$/, '')}/${e.name}`;
        if (isKubepodsDir(e.name)) found.push(path);
        else if (containerIdOfSegment(e.name) === undefined) next.push(path);
      }
    }
    queue = next;
  }
  return found;
}
