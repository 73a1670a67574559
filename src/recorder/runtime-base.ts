/** Container runtimes we record built-in base profiles for (scripts/record-runtime-base). */
export type BaseRuntime = 'runc' | 'crun';

export const BASE_RUNTIMES: readonly BaseRuntime[] = ['runc', 'crun'];

/**
 * The built-in base profile name for the runc that `runc --version` describes: "runc version 1.1.5+ds1" ->
 * "runc-v1.1.5". Distribution suffixes (+ds1, ~rc) are dropped: the name must be a DNS-1123 subdomain.
 */
export function runcBaseName(versionOutput: string): string | undefined {
  return baseName('runc', versionOutput);
}

/** The same for crun: "crun version 1.8.1" -> "crun-v1.8.1". */
export function crunBaseName(versionOutput: string): string | undefined {
  return baseName('crun', versionOutput);
}

export function baseName(runtime: BaseRuntime, versionOutput: string): string | undefined {
  const m = new RegExp(`^${runtime} version v?(\\d+\\.\\d+\\.\\d+)`, 'm').exec(versionOutput);
  return m === null ? undefined : `${runtime}-v${m[1]}`;
}

/** The version as the runtime prints it on its first line ("1.1.5+ds1"), for the generated file's record. */
export function reportedVersion(runtime: BaseRuntime, versionOutput: string): string | undefined {
  const m = new RegExp(`^${runtime} version (\\S+)`, 'm').exec(versionOutput);
  return m?.[1];
}

// The comm the runtime's own code runs under inside the container, between installing the filter and the
// execve. runc re-executes itself as "runc init", which names itself "runc:[2:INIT]". crun is one C process
// that forks the container's init without re-executing, so the init keeps the binary's comm, "crun" (seen
// through containerd's shim and directly, crun 1.8.1). The exe= field cannot tell them apart: both are
// printed as "/", the binary's path lies outside the container's root by then.
const RUNTIME_COMM: Readonly<Record<BaseRuntime, RegExp>> = {
  runc: /^runc:\[2:INIT\]$/,
  crun: /^crun$/,
};

export type RecordSource = 'runtime' | 'workload' | 'other';

/**
 * Whose call a seccomp audit record of the container's pid is: the runtime's (before the execve), the
 * workload's (its comm, after the execve), or something else. "other" means the recording cannot be trusted
 * (another runtime, or a runtime that renamed itself) and must stop rather than count it on either side.
 */
export function recordSource(runtime: BaseRuntime, comm: string, workloadComm: string): RecordSource {
  if (RUNTIME_COMM[runtime].test(comm)) return 'runtime';
  return comm === workloadComm ? 'workload' : 'other';
}
