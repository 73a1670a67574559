import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What the recorder must not lose across a restart: who records what, and every syscall drained so far. */
export interface TrackerSnapshot {
  readonly version: 1;
  readonly arms: readonly string[];
  readonly containers: readonly {
    readonly id: string;
    readonly key?: string;
    readonly mntns: number;
    readonly nsId: number;
    readonly native: readonly number[];
    readonly compat: readonly number[];
    readonly outOfRange: boolean;
  }[];
  readonly collected: readonly {
    readonly key: string;
    readonly syscalls: readonly string[];
    readonly containerIds: readonly string[];
    readonly warnings: readonly string[];
  }[];
}

export const EMPTY_SNAPSHOT: TrackerSnapshot = { version: 1, arms: [], containers: [], collected: [] };

/** A snapshot from disk; anything unreadable starts empty (the recorder logs it), never half-applied. */
export function parseSnapshot(text: string): TrackerSnapshot {
  const doc = JSON.parse(text) as Partial<TrackerSnapshot>;
  if (
    doc.version !== 1 ||
    !Array.isArray(doc.arms) ||
    !Array.isArray(doc.containers) ||
    !Array.isArray(doc.collected)
  )
    throw new Error('not a version 1 recorder state');
  return doc as TrackerSnapshot;
}

export async function loadSnapshot(path: string): Promise<TrackerSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseSnapshot(text);
}

/** Temp file, fsync, rename: a crash leaves the old state or the new one. */
export async function saveSnapshot(path: string, snapshot: TrackerSnapshot): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(snapshot));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
