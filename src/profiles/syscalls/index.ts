import type { Architecture } from '../types.js';
import { AARCH64_SYSCALLS } from './generated/aarch64.js';
import { X86_64_SYSCALLS } from './generated/x86_64.js';

/** Architectures we ship syscall tables for: the ones a node of ours can run on. */
export type Arch = 'x86_64' | 'aarch64';
export const ARCHES: readonly Arch[] = ['x86_64', 'aarch64'];

interface Table {
  readonly byNumber: ReadonlyMap<number, string>;
  readonly byName: ReadonlyMap<string, number>;
}

function table(entries: ReadonlyArray<readonly [number, string]>): Table {
  return {
    byNumber: new Map(entries),
    byName: new Map(entries.map(([nr, name]) => [name, nr] as const)),
  };
}

const TABLES: Readonly<Record<Arch, Table>> = {
  x86_64: table(X86_64_SYSCALLS),
  aarch64: table(AARCH64_SYSCALLS),
};

export function syscallName(arch: Arch, nr: number): string | undefined {
  return TABLES[arch].byNumber.get(nr);
}

export function syscallNumber(arch: Arch, name: string): number | undefined {
  return TABLES[arch].byName.get(name);
}

/** True when any architecture we know has a syscall of this name. */
export function isKnownSyscall(name: string): boolean {
  return ARCHES.some((arch) => TABLES[arch].byName.has(name));
}

/** Every syscall name of one architecture, sorted by number. */
export function syscallNames(arch: Arch): string[] {
  return [...TABLES[arch].byNumber.values()];
}

/** Maps Node's `process.arch` to our name; throws for architectures we have no table for. */
export function archOf(nodeArch: string): Arch {
  if (nodeArch === 'x64') return 'x86_64';
  if (nodeArch === 'arm64') return 'aarch64';
  throw new Error(`unsupported architecture ${nodeArch}: seccomp tables exist for x86_64 and aarch64 only`);
}

export function scmpArch(arch: Arch): Architecture {
  return arch === 'x86_64' ? 'SCMP_ARCH_X86_64' : 'SCMP_ARCH_AARCH64';
}
