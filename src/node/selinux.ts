import { readFile } from 'node:fs/promises';

/** The start-up warning when SELinux enforces, with the seed's fixes; undefined when it does not. */
export function selinuxWarning(enforce: string | undefined): string | undefined {
  if (enforce?.trim() !== '1') return undefined;
  return (
    'SELinux is enforcing: BPF operations may be denied (AVC). Fix: run the recorder as spc_t ' +
    '(seLinuxOptions.type: spc_t, or the privileged SCC), or build a policy from the denials: ' +
    'ausearch -c seccompctl --raw | audit2allow -M seccompctl-bpf && semodule -i seccompctl-bpf.pp'
  );
}

/** Reads selinuxfs's enforce flag; a host without SELinux has none. */
export async function readSelinuxEnforce(path = '/sys/fs/selinux/enforce'): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}
