import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile, rename, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { ProfileLocation } from './profile-path.js';

export type WriteOutcome = 'created' | 'updated' | 'unchanged';
export type RemoveOutcome = 'removed' | 'absent';

const DIR_MODE = 0o744;
const FILE_MODE = 0o644;

/**
 * Makes each directory below `root` and refuses anything that is not a plain directory: a symlink planted at
 * `operator/<ns>` must not redirect writes outside the root.
 */
async function ensureDirs(root: string, dirs: readonly string[]): Promise<string> {
  // The seccomp root itself may not exist on a fresh node; its parent (the kubelet directory) must.
  let current = '';
  for (const segment of [root, ...dirs]) {
    current = current === '' ? segment : join(current, segment);
    try {
      await mkdir(current, { mode: DIR_MODE });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const stat = await lstat(current);
    if (!stat.isDirectory()) {
      throw new AppError(
        'ERR_PROFILE_WRITE',
        `${current} is not a directory (symlink or file); refusing to write through it`,
      );
    }
  }
  return current;
}

async function readIfRegular(path: string): Promise<string | undefined> {
  let stat: Awaited<ReturnType<typeof lstat>>;
  try {
    stat = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (!stat.isFile())
    throw new AppError('ERR_PROFILE_WRITE', `${path} is not a regular file; refusing to replace it`);
  return readFile(path, 'utf8');
}

/**
 * Writes a profile file atomically: a temp file in the same directory (O_EXCL, no symlink follow), fsync, rename,
 * then fsync the directory so the rename survives a crash. Readers see the old file or the new one, never a mix.
 * Content equal to what is there already is not rewritten, so the kubelet and metrics see only real changes.
 */
export async function writeProfileFile(
  root: string,
  location: ProfileLocation,
  content: string,
): Promise<WriteOutcome> {
  const [operatorDir, namespace, file] = location.segments;
  const dir = await ensureDirs(root, [operatorDir, namespace]);
  const target = join(dir, file);
  const previous = await readIfRegular(target);
  if (previous === content) return 'unchanged';
  const temp = join(dir, `.${file}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    FILE_MODE,
  );
  try {
    await handle.writeFile(content);
    await handle.chmod(FILE_MODE);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await unlink(temp).catch(() => {});
    throw e;
  }
  await handle.close();
  try {
    await rename(temp, target);
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw e;
  }
  const dirHandle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
  return previous === undefined ? 'created' : 'updated';
}

/** Removes a profile file, and its namespace directory once empty. */
export async function removeProfileFile(root: string, location: ProfileLocation): Promise<RemoveOutcome> {
  const [operatorDir, namespace, file] = location.segments;
  const dir = join(root, operatorDir, namespace);
  let dirStat: Awaited<ReturnType<typeof lstat>>;
  try {
    dirStat = await lstat(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw e;
  }
  if (!dirStat.isDirectory())
    throw new AppError('ERR_PROFILE_WRITE', `${dir} is not a directory; refusing to remove through it`);
  let outcome: RemoveOutcome = 'removed';
  try {
    await unlink(join(dir, file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    outcome = 'absent';
  }
  await rmdir(dir).catch(() => {});
  return outcome;
}
