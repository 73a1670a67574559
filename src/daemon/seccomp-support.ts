import { readFile } from 'node:fs/promises';

/**
 * Whether this kernel can apply seccomp filters: /proc/self/status has a `Seccomp:` line only on kernels built
 * with CONFIG_SECCOMP, and `Seccomp_filters:` with filter mode (CONFIG_SECCOMP_FILTER).
 */
export async function seccompSupported(procBase = '/proc'): Promise<boolean> {
  try {
    const status = await readFile(`${procBase}/self/status`, 'utf8');
    return /^Seccomp:\s+\d/m.test(status) && /^Seccomp_filters:\s+\d/m.test(status);
  } catch {
    return false;
  }
}
