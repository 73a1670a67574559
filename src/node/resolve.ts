import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import { parseNsLink } from '../recorder/parse-proc.js';
import {
  CONTAINER_ID,
  cgroupDirCandidates,
  cgroupsPathToRelative,
  containerIdOfSegment,
  hierarchyRoots,
  parseCgroupProcs,
  procCgroupHasContainer,
} from './cgroup-path.js';
import { criContainerFacts, parseCgroupFields } from './cri-info.js';
import type { CriContainerStatus } from './cri.js';

export type ResolveMethod = 'cri' | 'cgroup' | 'proc';

export interface ResolvedContainer {
  readonly containerId: string;
  readonly pid: number;
  readonly mntns: number;
  readonly method: ResolveMethod;
}

export interface ResolverOptions {
  readonly log: Logger;
  /** undefined: no CRI endpoint, the cgroup and /proc methods still work. */
  readonly cri?: { containerStatus(id: string): Promise<CriContainerStatus> };
  readonly cgroupBase: string;
  readonly procBase: string;
  /** SPO_CRI_CGROUP_FIELDS */
  readonly criCgroupFields: readonly string[];
}

/** SPO_CGROUP_BASE, SPO_PROC_BASE, SPO_CRI_CGROUP_FIELDS with the DESIGN defaults. */
export function resolverEnv(
  env: NodeJS.ProcessEnv,
): Pick<ResolverOptions, 'cgroupBase' | 'procBase' | 'criCgroupFields'> {
  return {
    cgroupBase: env['SPO_CGROUP_BASE'] || '/sys/fs/cgroup',
    procBase: env['SPO_PROC_BASE'] || '/proc',
    criCgroupFields: parseCgroupFields(env['SPO_CRI_CGROUP_FIELDS']),
  };
}

const SCAN_MAX_DIRS = 50_000;

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Container id -> a live pid in it -> its mount namespace, by the three methods of DESIGN "Node side" in order:
 * CRI ContainerStatus(verbose), a scan of the cgroup filesystem, then every /proc/<pid>/cgroup.
 */
export class ContainerResolver {
  constructor(private readonly opts: ResolverOptions) {}

  async resolve(containerId: string): Promise<ResolvedContainer> {
    if (!CONTAINER_ID.test(containerId))
      throw new AppError('ERR_CONFIG', `not a container id: "${containerId}" (expected 64 hex digits)`);
    const log = this.opts.log.child({ containerId });
    let hintedPath: string | undefined;
    if (this.opts.cri !== undefined) {
      try {
        const status = await this.opts.cri.containerStatus(containerId);
        const facts = criContainerFacts(status.info, this.opts.criCgroupFields);
        hintedPath = facts.cgroupsPath;
        if (facts.pid !== undefined) {
          const found = await this.#verified(containerId, facts.pid, 'cri');
          if (found !== undefined) return found;
        }
      } catch (err) {
        log.debug({ err }, 'CRI ContainerStatus failed; scanning cgroups');
      }
    }
    const byCgroup = await this.#fromCgroups(containerId, hintedPath);
    if (byCgroup !== undefined) return byCgroup;
    const byProc = await this.#fromProc(containerId);
    if (byProc !== undefined) return byProc;
    throw new AppError(
      'ERR_CGROUP_NOT_FOUND',
      `cgroup path not found for container ${containerId}: no running process found through CRI ` +
        `(${this.opts.cri === undefined ? 'no endpoint' : 'verbose ContainerStatus'}), ${this.opts.cgroupBase} or ` +
        `${this.opts.procBase}. The container may have exited; otherwise mount the CRI socket, the cgroup ` +
        'filesystem and the host /proc (hostPID) into the recorder, or set SPO_CRI_CGROUP_FIELDS',
    );
  }

  // A pid from CRI or a cgroup.procs may be stale (reused): only trust it if its cgroup names the container.
  async #verified(id: string, pid: number, method: ResolveMethod): Promise<ResolvedContainer | undefined> {
    const cgroup = await readText(join(this.opts.procBase, String(pid), 'cgroup'));
    if (cgroup === undefined || !procCgroupHasContainer(cgroup, id)) return undefined;
    try {
      const mntns = parseNsLink(await readlink(join(this.opts.procBase, String(pid), 'ns', 'mnt')));
      return { containerId: id, pid, mntns, method };
    } catch {
      return undefined;
    }
  }

  async #fromDir(id: string, dir: string): Promise<ResolvedContainer | undefined> {
    const procs = await readText(join(dir, 'cgroup.procs'));
    if (procs === undefined) return undefined;
    for (const pid of parseCgroupProcs(procs)) {
      const found = await this.#verified(id, pid, 'cgroup');
      if (found !== undefined) return found;
    }
    return undefined;
  }

  async #fromCgroups(id: string, hintedPath: string | undefined): Promise<ResolvedContainer | undefined> {
    const base = this.opts.cgroupBase;
    const roots = hierarchyRoots(base, existsSync(join(base, 'cgroup.controllers')));
    if (hintedPath !== undefined) {
      for (const dir of cgroupDirCandidates(cgroupsPathToRelative(hintedPath), roots)) {
        const found = await this.#fromDir(id, dir);
        if (found !== undefined) return found;
      }
    }
    // Breadth-first, so the shallow kubepods trees are reached long before the bound.
    let seen = 0;
    for (const root of roots) {
      const queue = [root];
      while (queue.length > 0 && seen < SCAN_MAX_DIRS) {
        const dir = queue.shift()!;
        let entries: import('node:fs').Dirent[];
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch {
          continue;
        }
        for (const e of entries) {
          if (!e.isDirectory()) continue;
          seen++;
          const child = join(dir, e.name);
          if (containerIdOfSegment(e.name) === id) {
            const found = await this.#fromDir(id, child);
            if (found !== undefined) return found;
          }
          queue.push(child);
        }
      }
    }
    return undefined;
  }

  async #fromProc(id: string): Promise<ResolvedContainer | undefined> {
    let names: string[];
    try {
      names = await readdir(this.opts.procBase);
    } catch {
      return undefined;
    }
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue;
      const found = await this.#verified(id, Number(name), 'proc');
      if (found !== undefined) return found;
    }
    return undefined;
  }
}
