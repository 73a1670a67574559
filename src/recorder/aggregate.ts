import { bitmapNumbers } from './bitmap.js';
import type { NativeEntry } from './native.js';

/** Flag set by the BPF program when a syscall number was too large for the bitmap (bpf/recorder.h). */
export const FLAG_OUT_OF_RANGE = 0x1;
/** Flag set by the BPF program when it restarted the namespace's bitmap at the runtime's start-up (bpf/recorder.h). */
export const FLAG_RUNTIME_START = 0x2;

/** Everything drained so far for one mount namespace instance. */
export interface MntnsSyscalls {
  /** The kernel's id for the namespace instance (0 when the kernel has none). */
  nsId: number;
  readonly native: Set<number>;
  /** Syscalls of compat (32-bit) tasks: numbers from another table, kept apart. */
  readonly compat: Set<number>;
  outOfRange: boolean;
}

export function emptySyscalls(nsId = 0): MntnsSyscalls {
  return { nsId, native: new Set(), compat: new Set(), outOfRange: false };
}

/**
 * Folds a drained entry into what is known of its namespace, and returns the result (`known` is updated in place).
 * Inode numbers are reused: an entry from an older instance than the one known is dropped, and a newer instance
 * replaces the old one's syscalls, since the old namespace must be gone for its number to be handed out again.
 */
export function foldEntry(known: MntnsSyscalls | undefined, entry: NativeEntry): MntnsSyscalls {
  let into = known ?? emptySyscalls(entry.nsId);
  if (entry.nsId !== 0 && into.nsId !== 0 && entry.nsId !== into.nsId) {
    if (entry.nsId < into.nsId) return into;
    into = emptySyscalls(entry.nsId);
  } else if (into.nsId === 0) {
    into.nsId = entry.nsId;
  }
  for (const nr of bitmapNumbers(entry.native)) into.native.add(nr);
  for (const nr of bitmapNumbers(entry.compat)) into.compat.add(nr);
  if (entry.flags & FLAG_OUT_OF_RANGE) into.outOfRange = true;
  return into;
}

/** One drain's entries by mount namespace (a namespace can have two: its slot and its hash map entry). */
export function groupByMntns(entries: readonly NativeEntry[]): Map<number, NativeEntry[]> {
  const out = new Map<number, NativeEntry[]>();
  for (const entry of entries) {
    const group = out.get(entry.mntns);
    if (group === undefined) out.set(entry.mntns, [entry]);
    else group.push(entry);
  }
  return out;
}

/**
 * Folds what one drain returned for one namespace.
 *
 * Another namespace id than the one known means the inode number was reused: the earlier instance is gone (and
 * drained: a gone namespace adds nothing), so a later drain's instance replaces it. Ids are not ordered by age
 * (kernels hand them out in per-CPU batches), so only within one drain, the rare moment both instances show up,
 * does foldEntry's comparison decide.
 *
 * An entry marked FLAG_RUNTIME_START means the program restarted the namespace's bitmap at the runtime's start-up
 * (runc's init): what earlier drains collected for that instance is the runtime's set-up, not the workload's, so it
 * is dropped. Everything in this drain is kept: the program sees to it that a syscall recorded after the mark is
 * never drained before the mark, but one from before it may come in the same drain (from the namespace's other
 * place), and keeping a little too much beats losing a syscall.
 */
export function foldDrain(known: MntnsSyscalls | undefined, entries: readonly NativeEntry[]): MntnsSyscalls {
  let into = known;
  const first = entries[0];
  const oneId = first !== undefined && entries.every((e) => e.nsId === first.nsId) ? first.nsId : undefined;
  if (into !== undefined && oneId !== undefined && oneId !== 0 && into.nsId !== 0 && oneId !== into.nsId) {
    into = emptySyscalls(oneId);
  }
  const start = entries.find((e) => (e.flags & FLAG_RUNTIME_START) !== 0);
  if (
    start !== undefined &&
    (into === undefined || into.nsId === 0 || start.nsId === 0 || start.nsId === into.nsId)
  ) {
    into = emptySyscalls(start.nsId);
  }
  for (const entry of entries) into = foldEntry(into, entry);
  return into ?? emptySyscalls();
}
