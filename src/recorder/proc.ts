import { closeSync, existsSync, fstatSync, openSync, readlinkSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import type { HostFacts } from './diagnose.js';
import { parseNsLink } from './parse-proc.js';

/** An open handle on a mount namespace: while held, the kernel cannot free it and hand its inode to another. */
export interface MntnsPin {
  readonly mntns: number;
  release(): void;
}

export function readMntns(pid: number | 'self', procBase = '/proc'): number {
  return parseNsLink(readlinkSync(join(procBase, String(pid), 'ns', 'mnt')));
}

/** Opens the namespace first and reads its inode from the descriptor, so a pid that exits meanwhile cannot mislead. */
export function pinMntns(pid: number, procBase = '/proc'): MntnsPin {
  const fd = openSync(join(procBase, String(pid), 'ns', 'mnt'), 'r');
  let mntns: number;
  try {
    mntns = fstatSync(fd).ino;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let open = true;
  return {
    mntns,
    release() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/**
 * The host's mount namespace: PID 1's. Without access to PID 1 (no hostPID, or a sandbox that hides it) our own
 * namespace is the best guess, and for a local CLI it is the right one.
 */
export function hostMntns(procBase = '/proc'): number {
  try {
    return readMntns(1, procBase);
  } catch {
    return readMntns('self', procBase);
  }
}

export function hostFacts(env: NodeJS.ProcessEnv): HostFacts {
  const btfPath =
    env['SPO_BTF_FILE'] !== undefined && env['SPO_BTF_FILE'] !== '' ? env['SPO_BTF_FILE'] : undefined;
  return {
    uid: process.getuid?.() ?? -1,
    kernelRelease: release(),
    kernelBtf: existsSync('/sys/kernel/btf/vmlinux'),
    ...(btfPath !== undefined ? { btfPath, btfPathExists: existsSync(btfPath) } : {}),
  };
}
