import { AppError } from '../errors.js';
import type { Action, Architecture, Flag, RawSeccompProfile } from '../profiles/types.js';
import type { SeccompArgSpec, SeccompFilterSpec } from './native.js';

const EPERM = 1;

// libseccomp's SCMP_ACT_* values (seccomp.h), which are the kernel's SECCOMP_RET_* plus data.
const ACT_KILL_THREAD = 0x00000000;
const ACT_KILL_PROCESS = 0x80000000;
const ACT_TRAP = 0x00030000;
const ACT_ERRNO = 0x00050000;
const ACT_TRACE = 0x7ff00000;
const ACT_LOG = 0x7ffc0000;
const ACT_ALLOW = 0x7fff0000;

const OPS = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
} as const;

// seccomp(2) SECCOMP_FILTER_FLAG_*
const FLAG_BITS: Readonly<Record<Flag, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};
export const SECCOMP_FILTER_FLAG_LOG = FLAG_BITS.SECCOMP_FILTER_FLAG_LOG;

/** The numeric action libseccomp takes; ERRNO without errnoRet is EPERM, as in runc. */
export function actionValue(action: Action, errnoRet: number | undefined): number {
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return ACT_ALLOW;
    case 'SCMP_ACT_ERRNO':
      return (ACT_ERRNO | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return ACT_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return ACT_KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return ACT_TRAP;
    case 'SCMP_ACT_TRACE':
      return (ACT_TRACE | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_LOG':
      return ACT_LOG;
    case 'SCMP_ACT_NOTIFY':
      throw new AppError(
        'ERR_SECCOMP',
        'SCMP_ACT_NOTIFY needs a seccomp agent listening for the filter; run cannot provide one',
      );
  }
}

/** SCMP_ARCH_X86_64 -> x86_64, the names libseccomp resolves; SCMP_ARCH_NATIVE needs no entry. */
export function archName(arch: Architecture): string | undefined {
  if (arch === 'SCMP_ARCH_NATIVE') return undefined;
  return arch.slice('SCMP_ARCH_'.length).toLowerCase();
}

export interface CompiledRequest {
  readonly spec: SeccompFilterSpec;
  /** seccomp(2) flags for spo-exec */
  readonly flags: number;
}

/**
 * Maps a raw profile to what the addon compiles. `log` adds SECCOMP_FILTER_FLAG_LOG, so every denial is written to
 * the kernel log with its syscall number: how run names what was denied, without running the command twice.
 */
export function filterRequest(profile: RawSeccompProfile, opts: { log: boolean }): CompiledRequest {
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const rules = (profile.syscalls ?? []).flatMap((rule) => {
    const action = actionValue(
      rule.action,
      rule.errnoRet ?? (rule.action === 'SCMP_ACT_ERRNO' ? profile.defaultErrnoRet : undefined),
    );
    const args: SeccompArgSpec[] = (rule.args ?? []).map((arg) => ({
      index: arg.index,
      op: OPS[arg.op],
      value: BigInt(arg.value ?? 0),
      valueTwo: BigInt(arg.valueTwo ?? 0),
    }));
    return rule.names.map((name) => ({ name, action, args }));
  });
  let flags = 0;
  for (const flag of profile.flags ?? []) flags |= FLAG_BITS[flag];
  if (opts.log) flags |= SECCOMP_FILTER_FLAG_LOG;
  return {
    spec: {
      defaultAction,
      // a syscall from an architecture the profile does not list is treated like one it does not list
      badArchAction: defaultAction,
      architectures: (profile.architectures ?? []).flatMap((a) => archName(a) ?? []),
      rules,
    },
    flags,
  };
}
