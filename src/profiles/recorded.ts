import { seccompProfileResource } from './convert.js';
import { type Arch, scmpArch } from './syscalls/index.js';
import type { SeccompProfile } from './types.js';

export interface RecordedInput {
  readonly name: string;
  readonly namespace?: string;
  readonly arch: Arch;
  readonly syscalls: Iterable<string>;
  readonly baseProfileName?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** The allow-list profile for what a workload was seen to call: deny everything else with an errno. */
export function profileFromSyscalls(input: RecordedInput): SeccompProfile {
  const names = [...new Set(input.syscalls)].sort();
  return seccompProfileResource(
    {
      name: input.name,
      ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
      ...(input.labels !== undefined ? { labels: input.labels } : {}),
    },
    {
      ...(input.baseProfileName !== undefined ? { baseProfileName: input.baseProfileName } : {}),
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: [scmpArch(input.arch)],
      ...(names.length > 0 ? { syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] } : {}),
    },
  );
}
