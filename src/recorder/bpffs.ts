import { mkdir, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../errors.js';
import { bpffsProblem } from './pin-dir.js';

/**
 * Makes sure `dir` is (or can be made) a directory on a bpf filesystem, and creates it (0700). The filesystem
 * is the node's to mount: a missing one is an error that says how.
 */
export async function preparePinDir(dir: string): Promise<void> {
  // the nearest part of the path that exists tells which filesystem the directory would be made on
  let checked = dir;
  let type: number | undefined;
  for (;;) {
    try {
      type = Number((await statfs(checked)).type);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || checked === dirname(checked)) throw e;
      checked = dirname(checked);
    }
  }
  const problem = bpffsProblem(dir, checked, type);
  if (problem !== undefined) throw new AppError('ERR_BPF_PREREQ', problem);
  await mkdir(dir, { recursive: true, mode: 0o700 });
}
