import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseNsLink } from '../recorder/parse-proc.js';
import { containerIdOfProcCgroup } from './cgroup-path.js';

export interface Attribution {
  readonly mntns: number;
  readonly pid: number;
  readonly containerId: string;
}

/**
 * Which container each of `wanted` mount namespaces belongs to, from one pass over /proc: a process in the
 * namespace whose cgroup names a container. Namespaces with no live process, or only host processes, are absent.
 */
export async function attributeMntns(
  wanted: ReadonlySet<number>,
  procBase = '/proc',
): Promise<Attribution[]> {
  if (wanted.size === 0) return [];
  const found = new Map<number, Attribution>();
  let names: string[];
  try {
    names = await readdir(procBase);
  } catch {
    return [];
  }
  for (const name of names) {
    if (found.size === wanted.size) break;
    if (!/^\d+$/.test(name)) continue;
    let mntns: number;
    try {
      mntns = parseNsLink(await readlink(join(procBase, name, 'ns', 'mnt')));
    } catch {
      continue;
    }
    if (!wanted.has(mntns) || found.has(mntns)) continue;
    let cgroup: string;
    try {
      cgroup = await readFile(join(procBase, name, 'cgroup'), 'utf8');
    } catch {
      continue;
    }
    const containerId = containerIdOfProcCgroup(cgroup);
    if (containerId !== undefined) found.set(mntns, { mntns, pid: Number(name), containerId });
  }
  return [...found.values()];
}
