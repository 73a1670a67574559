import type { Arch } from '../profiles/syscalls/index.js';

/** One kernel seccomp audit record (type=1326): a syscall a filter did not allow. */
export interface SeccompDenial {
  readonly pid: number;
  readonly comm: string;
  readonly exe?: string;
  /** AUDIT_ARCH_* in hex, as logged (c000003e = x86_64) */
  readonly auditArch: string;
  readonly syscall: number;
  readonly compat: boolean;
  /** The filter's return value, e.g. 0x50001 (ERRNO EPERM) */
  readonly code: number;
}

/** A /dev/kmsg record: "prio,seq,usec,flags[,...];message". */
export function parseKmsgRecord(record: string): { seq: number; message: string } | undefined {
  const semi = record.indexOf(';');
  if (semi < 0) return undefined;
  const fields = record.slice(0, semi).split(',');
  const seq = Number(fields[1]);
  if (!Number.isSafeInteger(seq)) return undefined;
  return { seq, message: record.slice(semi + 1).split('\n')[0] ?? '' };
}

function field(line: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${key}=("([^"]*)"|\\S+)`).exec(line);
  if (m === null) return undefined;
  return m[2] ?? m[1];
}

/** Parses a seccomp audit line (from kmsg, auditd or syslog); undefined for anything else. */
export function parseSeccompAudit(line: string): SeccompDenial | undefined {
  if (!/\btype=(1326|SECCOMP)\b/.test(line)) return undefined;
  const pid = Number(field(line, 'pid'));
  const syscall = Number(field(line, 'syscall'));
  const auditArch = field(line, 'arch');
  const code = field(line, 'code');
  if (
    !Number.isSafeInteger(pid) ||
    !Number.isSafeInteger(syscall) ||
    auditArch === undefined ||
    code === undefined
  ) {
    return undefined;
  }
  const exe = field(line, 'exe');
  return {
    pid,
    comm: field(line, 'comm') ?? '',
    ...(exe !== undefined ? { exe } : {}),
    auditArch: auditArch.toLowerCase(),
    syscall,
    compat: field(line, 'compat') === '1',
    code: Number.parseInt(code, 16),
  };
}

const AUDIT_ARCHES: Readonly<Record<string, Arch>> = { c000003e: 'x86_64', c00000b7: 'aarch64' };

/** The syscall table a denial's number belongs to, when we have one. */
export function archOfAudit(auditArch: string): Arch | undefined {
  return AUDIT_ARCHES[auditArch];
}

// SECCOMP_RET_ACTION_FULL: allowed and logged calls (SCMP_ACT_LOG) are not denials.
const RET_LOG = 0x7ffc0000;
const RET_ALLOW = 0x7fff0000;

export function isDenial(d: SeccompDenial): boolean {
  const action = (d.code & 0xffff0000) >>> 0;
  return action !== RET_LOG && action !== RET_ALLOW;
}
