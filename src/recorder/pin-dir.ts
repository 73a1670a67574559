import { isAbsolute, normalize } from 'node:path';
import { UsageError } from '../errors.js';

/** Where the node recorder pins its maps and link unless told otherwise (the host's bpffs, mounted in). */
export const DEFAULT_PIN_DIR = '/sys/fs/bpf/seccompctl-recorder';
/** The value that turns pinning off: what a workload does while the recorder is down is then lost. */
export const NO_PIN_DIR = 'none';
/** statfs(2) f_type of a bpf filesystem (linux/magic.h BPF_FS_MAGIC). */
export const BPF_FS_MAGIC = 0xcafe4a11;

// The directory is the recorder's own: detach removes every pin in it, so a shared root is refused.
const REFUSED = new Set(['/', '/sys', '/sys/fs', '/sys/fs/bpf']);

/**
 * --bpf-pin-dir / SPO_BPF_PIN_DIR: an absolute, normalised directory of the recorder's own, or `none`.
 * Undefined: pinning is off.
 */
export function parsePinDir(value: string | undefined, source: string): string | undefined {
  if (value === undefined || value === '') return DEFAULT_PIN_DIR;
  if (value === NO_PIN_DIR) return undefined;
  if (
    !isAbsolute(value) ||
    normalize(value) !== value ||
    (value !== '/' && value.endsWith('/')) ||
    value.includes('\0')
  ) {
    throw new UsageError(
      `${source} must be an absolute, normalised path on a bpf filesystem (e.g. ${DEFAULT_PIN_DIR}), or ${NO_PIN_DIR}, not "${value}"`,
    );
  }
  if (REFUSED.has(value)) {
    throw new UsageError(
      `${source} must be a directory of the recorder's own (e.g. ${DEFAULT_PIN_DIR}), not "${value}": ` +
        'the recorder removes every pin in it when it stops recording',
    );
  }
  return value;
}

/**
 * Why `fsType` (statfs f_type of the pin directory, or of its parent when it does not exist yet) cannot hold
 * pins, naming the fix; undefined when it is a bpffs.
 */
export function bpffsProblem(dir: string, checked: string, fsType: number): string | undefined {
  if (fsType === BPF_FS_MAGIC) return undefined;
  return (
    `${checked} is not a bpf filesystem (statfs type 0x${fsType.toString(16)}), so the recorder cannot pin its ` +
    `eBPF maps and link in ${dir}: mount one (mount -t bpf bpf /sys/fs/bpf; on Kubernetes, mount the host's ` +
    `/sys/fs/bpf into the recorder container as a hostPath volume), or pass --bpf-pin-dir ${NO_PIN_DIR} to record ` +
    'without surviving restarts'
  );
}
