import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError } from '../errors.js';
import { decodeText, MAX_DOCUMENT_BYTES } from '../profiles/document.js';

/** Reads a text input file, bounded in size, with errors that name the file and the fix. */
export async function readTextFile(path: string, cwd: string): Promise<string> {
  const full = resolve(cwd, path);
  let bytes: Buffer;
  try {
    const handle = await open(full, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_DOCUMENT_BYTES) {
        throw new AppError(
          'ERR_INPUT_READ',
          `${path}: file is ${size} bytes; profiles are limited to ${MAX_DOCUMENT_BYTES} bytes`,
        );
      }
      bytes = await readFile(handle);
    } finally {
      await handle.close();
    }
  } catch (e) {
    if (e instanceof AppError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (e as Error).message;
    throw new AppError('ERR_INPUT_READ', `${path}: cannot read: ${reason}`, { cause: e });
  }
  return decodeText(bytes, path);
}

/** Writes the whole file or nothing: a temp file in the same directory, fsync, then rename over the target. */
export async function writeFileAtomic(path: string, text: string, cwd: string): Promise<void> {
  const full = resolve(cwd, path);
  const temp = join(dirname(full), `.${basename(full)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, full);
  } catch (e) {
    await rm(temp, { force: true });
    throw new AppError('ERR_OUTPUT_WRITE', `${path}: cannot write: ${(e as Error).message}`, { cause: e });
  }
}
