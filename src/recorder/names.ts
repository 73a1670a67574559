import { type Arch, syscallName } from '../profiles/syscalls/index.js';
import type { MntnsSyscalls } from './aggregate.js';

export interface NamedSyscalls {
  /** Sorted, what goes into the profile */
  readonly names: readonly string[];
  /** Numbers libseccomp's table has no name for: cannot be put in a profile */
  readonly unnamed: readonly number[];
  /** Distinct syscalls made by compat (32-bit) tasks: a native-arch profile does not cover them */
  readonly compat: number;
  readonly outOfRange: boolean;
}

export function nameSyscalls(arch: Arch, recorded: MntnsSyscalls): NamedSyscalls {
  const names: string[] = [];
  const unnamed: number[] = [];
  for (const nr of [...recorded.native].sort((a, b) => a - b)) {
    const name = syscallName(arch, nr);
    if (name === undefined) unnamed.push(nr);
    else names.push(name);
  }
  return { names: names.sort(), unnamed, compat: recorded.compat.size, outOfRange: recorded.outOfRange };
}

/** Why a recorded profile may not be enough, one line each; empty when it is. */
export function recordingWarnings(arch: Arch, named: NamedSyscalls): string[] {
  const out: string[] = [];
  if (named.unnamed.length > 0) {
    out.push(`syscall numbers without a ${arch} name were seen and left out: ${named.unnamed.join(', ')}`);
  }
  if (named.compat > 0) {
    out.push(`${named.compat} distinct 32-bit (compat) syscalls were seen; the profile covers ${arch} only`);
  }
  if (named.outOfRange)
    out.push('syscalls with numbers beyond the native table (x32?) were seen and left out');
  return out;
}
