import { bitmapNumbers } from './bitmap.js';
import type { NativeEntry } from './native.js';

/** Flag set by the BPF program when a syscall number was too large for the bitmap (bpf/recorder.h). */
export const FLAG_OUT_OF_RANGE = 0x1;

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
