import { seccompProfileResource } from './convert.js';
import { type Arch, scmpArch } from './syscalls/index.js';
import type { SeccompProfile } from './types.js';

export interface RecordedInput {
  readonly name: string;
  readonly namespace?: string;
  /** One architecture, or several (the log enricher keeps the syscalls of each arch a workload used). */
  readonly arch: Arch | readonly Arch[];
  readonly syscalls: Iterable<string>;
  readonly baseProfileName?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * Calls runc's own Go runtime may make at any moment between installing a container's filter and the
 * container's execve, whatever the workload is: futex wake-ups and sleeps (a failed FUTEX_WAKE makes Go crash
 * with SIGSEGV, exit 139), sysmon's nanosleep and sched_yield, signal-based preemption (getpid + tgkill to
 * send SIGURG, gettid, rt_sigreturn at the end of the handler), a new OS thread when one blocks (clone: Go's
 * newosproc throws "failed to create new OS thread" on an error) and the network poller looking for work
 * (epoll_pwait, which Go uses on every Linux architecture: a blocking poll that fails throws "netpoll failed").
 * Whether one of them falls into that window depends on timing, so one recording of a start sees them only
 * sometimes (clone was in 2 of 6 busybox recordings, docs/recording.md); a profile that lacks one then kills its
 * own container on an unlucky start. They are unioned into every recorded container profile instead of naming a
 * runtime base (`baseProfileName: runc-v...`): the recording already holds everything the runtime does
 * deterministically after the filter goes in (the eBPF recorder keeps all of runc init from its
 * `prctl(PR_GET_PDEATHSIG)` on, the log enricher every call the log profile let through), so only these
 * timing-dependent calls are missing, and nine names keep the profile smaller than a base would and
 * self-contained (it needs no built-in base for the node's runc version). Every name exists on x86_64 and
 * aarch64 (neither is a legacy call such as epoll_wait or fork, which aarch64 lacks).
 */
export const RUNTIME_TIMING_SYSCALLS: readonly string[] = [
  'clone',
  'epoll_pwait',
  'futex',
  'getpid',
  'gettid',
  'nanosleep',
  'rt_sigreturn',
  'sched_yield',
  'tgkill',
];

/** What a recorded container's profile allows: what it was seen to call plus RUNTIME_TIMING_SYSCALLS. */
export function containerSyscalls(recorded: Iterable<string>): string[] {
  return [...new Set([...recorded, ...RUNTIME_TIMING_SYSCALLS])].sort();
}

/** The allow-list profile for what a workload was seen to call: deny everything else with an errno. */
export function profileFromSyscalls(input: RecordedInput): SeccompProfile {
  const names = [...new Set(input.syscalls)].sort();
  const arches: readonly Arch[] = typeof input.arch === 'string' ? [input.arch] : input.arch;
  return seccompProfileResource(
    {
      name: input.name,
      ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
      ...(input.labels !== undefined ? { labels: input.labels } : {}),
    },
    {
      ...(input.baseProfileName !== undefined ? { baseProfileName: input.baseProfileName } : {}),
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: [...new Set(arches)].map(scmpArch),
      ...(names.length > 0 ? { syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] } : {}),
    },
  );
}
