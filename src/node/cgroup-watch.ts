import { existsSync, type FSWatcher, readdirSync, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { containerIdOfSegment, findKubepods, hierarchyRoots, parseCgroupProcs } from './cgroup-path.js';

export interface CgroupWatcherOptions {
  /** SPO_CGROUP_BASE */
  readonly cgroupBase: string;
  readonly log: Logger;
  /** A container's cgroup directory was just made (the runtime is creating the container). */
  readonly onContainer: (containerId: string, dir: string) => void;
  /** How often to look for the kubepods directory while there is none (a node whose kubelet starts later). */
  readonly rediscoverMs?: number;
}

/** kubepods, then QoS class, then pod: container directories sit at most three levels down. */
const MAX_WATCH_DEPTH = 2;
const MAX_WATCHES = 20_000;

function listDirs(dir: string): { name: string; isDir: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, isDir: e.isDirectory() }));
  } catch {
    return [];
  }
}

/**
 * Tells, with inotify, when a container's cgroup appears under the kubelet's pod cgroups: the runtime makes
 * it before the container's first process exists, so even a container that is over in a few milliseconds
 * can be tied to its mount namespace while it still has a process. Polling /proc cannot promise that.
 * One hierarchy is enough: the runtime makes the container's directory in every one it uses.
 */
export class CgroupWatcher {
  readonly #o: CgroupWatcherOptions;
  readonly #watches = new Map<string, FSWatcher>();
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: CgroupWatcherOptions) {
    this.#o = options;
  }

  /** The directories being watched (kubepods, QoS classes, pods). */
  get watched(): readonly string[] {
    return [...this.#watches.keys()];
  }

  /** Finds the pod cgroups and watches them; keeps looking in the background when there are none yet. */
  start(): void {
    if (this.#closed) return;
    const base = this.#o.cgroupBase;
    const roots = hierarchyRoots(base, existsSync(join(base, 'cgroup.controllers')));
    // v1: a hierarchy every runtime puts every container in, and that has few files to list
    const ordered = [...roots].sort((a, b) => rank(a) - rank(b));
    for (const root of ordered) {
      const found = findKubepods(root, listDirs);
      if (found.length === 0) continue;
      for (const dir of found) this.#watchTree(dir, 0, false);
      this.#o.log.info({ kubepods: found }, 'watching pod cgroups for new containers');
      return;
    }
    this.#o.log.warn(
      { cgroupBase: base },
      'no kubepods cgroup yet: containers are found by polling /proc until the kubelet makes one',
    );
    this.#retry = setTimeout(() => this.start(), this.#o.rediscoverMs ?? 10_000);
    this.#retry.unref();
  }

  close(): void {
    this.#closed = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    for (const w of this.#watches.values()) w.close();
    this.#watches.clear();
  }

  // `report`: containers already in a directory that just appeared were made before we could watch it.
  #watchTree(dir: string, depth: number, report: boolean): void {
    if (this.#closed || this.#watches.has(dir) || this.#watches.size >= MAX_WATCHES) return;
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: false }, (_event, name) => {
        if (typeof name === 'string' && name !== '') this.#changed(dir, depth, name);
        else this.#rescan(dir, depth);
      });
    } catch {
      return; // gone already
    }
    w.on('error', () => this.#unwatch(dir));
    this.#watches.set(dir, w);
    this.#rescan(dir, depth, report);
  }

  #rescan(dir: string, depth: number, report = true): void {
    for (const e of listDirs(dir)) {
      if (!e.isDir) continue;
      const id = containerIdOfSegment(e.name);
      if (id !== undefined) {
        if (report) this.#o.onContainer(id, join(dir, e.name));
      } else if (depth < MAX_WATCH_DEPTH) {
        this.#watchTree(join(dir, e.name), depth + 1, report);
      }
    }
  }

  #changed(dir: string, depth: number, name: string): void {
    const path = join(dir, name);
    stat(path).then(
      (st) => {
        if (!st.isDirectory()) return;
        const id = containerIdOfSegment(name);
        if (id !== undefined) this.#o.onContainer(id, path);
        else if (depth < MAX_WATCH_DEPTH) this.#watchTree(path, depth + 1, true);
      },
      () => this.#unwatch(path),
    );
  }

  #unwatch(dir: string): void {
    for (const [path, w] of this.#watches) {
      if (path === dir || path.startsWith(`${dir}/`)) {
        w.close();
        this.#watches.delete(path);
      }
    }
  }
}

function rank(root: string): number {
  const order = ['pids', 'memory', 'systemd', 'unified'];
  const i = order.findIndex((h) => root.endsWith(`/${h}`));
  return i < 0 ? order.length : i;
}

/** The pids in a cgroup directory; undefined once the directory is gone (the container was removed). */
export async function readCgroupProcs(dir: string): Promise<number[] | undefined> {
  try {
    return parseCgroupProcs(await readFile(join(dir, 'cgroup.procs'), 'utf8'));
  } catch {
    return undefined;
  }
}
