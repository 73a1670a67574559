/** The inode number in a namespace link as readlink shows it: "mnt:[4026531840]" -> 4026531840. */
export function parseNsLink(link: string, kind = 'mnt'): number {
  const m = /^([a-z_]+):\[(\d+)\]$/.exec(link.trim());
  if (m === null || m[1] !== kind) throw new Error(`not a ${kind} namespace link: "${link}"`);
  const inum = Number(m[2]);
  if (!Number.isSafeInteger(inum) || inum <= 0 || inum > 0xffffffff)
    throw new Error(`namespace inode out of range: "${link}"`);
  return inum;
}

export interface KernelVersion {
  readonly major: number;
  readonly minor: number;
}

/** "6.18.44-fc-v669" -> {6, 18}; undefined when the release string has no leading version. */
export function parseKernelRelease(release: string): KernelVersion | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (m === null) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function kernelAtLeast(v: KernelVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}
