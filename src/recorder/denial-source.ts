import { parseAuditLine } from '../enricher/audit-line.js';
import type { SeccompDenial } from './audit.js';

/** Where the kernel's seccomp audit records can be read on this machine. */
export type DenialSource =
  | { readonly kind: 'kmsg'; readonly path: string }
  | {
      readonly kind: 'audit';
      readonly path: string;
      /** Why the audit log: the records go to an audit daemon, not to the kernel log. */
      readonly reason: string;
      /** The audit daemon, when the kernel named it. */
      readonly daemon?: { readonly pid: number; readonly comm: string | undefined };
    };

export interface AuditFacts {
  /** The pid the kernel sends audit records to (0: none), undefined when the kernel could not be asked. */
  readonly auditPid: number | undefined;
  /** Its /proc comm, when it has one */
  readonly auditComm?: string | undefined;
  /** A process named auditd runs: the hint used when the kernel could not be asked. */
  readonly auditdRunning: boolean;
  readonly auditLog: string;
  /** When the audit log last changed; undefined when it does not exist. */
  readonly auditLogMtimeMs: number | undefined;
  readonly kmsg: string;
  readonly nowMs: number;
}

/** An audit log written this recently belongs to a running audit daemon. */
export const RECENT_AUDIT_LOG_MS = 10 * 60_000;

/**
 * The kernel hands audit records to the audit daemon registered with it (auditd) and prints them to the kernel
 * log only while there is none, so a registered daemon means the audit log. Without an answer from the kernel
 * (no auditctl, no right to ask), a running auditd or a log it has just written to says the same.
 */
export function chooseDenialSource(facts: AuditFacts): DenialSource {
  if (facts.auditPid !== undefined) {
    if (facts.auditPid === 0) return { kind: 'kmsg', path: facts.kmsg };
    return {
      kind: 'audit',
      path: facts.auditLog,
      reason: `the kernel sends audit records to ${facts.auditComm ?? 'the audit daemon'} (pid ${facts.auditPid})`,
      daemon: { pid: facts.auditPid, comm: facts.auditComm },
    };
  }
  if (facts.auditdRunning) return { kind: 'audit', path: facts.auditLog, reason: 'auditd runs' };
  if (facts.auditLogMtimeMs !== undefined && facts.nowMs - facts.auditLogMtimeMs < RECENT_AUDIT_LOG_MS) {
    return { kind: 'audit', path: facts.auditLog, reason: `${facts.auditLog} is being written to` };
  }
  return { kind: 'kmsg', path: facts.kmsg };
}

/** `auditctl -s` output ("enabled 1\npid 612\n..."): the audit daemon's pid, 0 when none is registered. */
export function parseAuditStatus(text: string): number | undefined {
  const m = /^pid\s+(\d+)\s*$/m.exec(text);
  return m?.[1] !== undefined ? Number(m[1]) : undefined;
}

/** auditd.conf's `log_file = PATH`, when set. */
export function auditdLogFile(conf: string): string | undefined {
  const m = /^\s*log_file\s*=\s*(\S+)\s*$/m.exec(conf);
  return m?.[1];
}

/**
 * The parent pid from /proc/<pid>/stat, or undefined for a process that has exited: a zombie keeps its entry
 * until reaped, and one whose parent died first hangs under init, where it no longer shows whose it was.
 */
export function liveParent(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const [state, ppidText] = stat.slice(close + 2).split(' ');
  if (state === 'Z' || state === 'X' || state === 'x') return undefined;
  const ppid = Number(ppidText);
  return Number.isSafeInteger(ppid) ? ppid : undefined;
}

export interface PidFacts {
  readonly commandPid: number;
  /** Every pid that was alive just before the command started */
  readonly preexisting: ReadonlySet<number>;
  /** The parent of a live process; undefined when the process has exited (zombies included). */
  readonly parentOf: (pid: number) => number | undefined;
}

const MAX_DEPTH = 64;

/**
 * Whether a record logged for `pid` is the command's: the command itself, or a process born after it started
 * that is gone by now or still descends from it. The kernel's audit record names no parent, and descendants
 * that lived for a millisecond are gone before anyone could see them, so "born since, and not someone else's"
 * is the test; processes that already ran (other workloads hitting their own filters) never count.
 */
export function ownedByCommand(pid: number, facts: PidFacts): boolean {
  if (pid === facts.commandPid) return true;
  if (facts.preexisting.has(pid)) return false;
  let current = pid;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const parent = facts.parentOf(current);
    if (parent === undefined) return current === pid;
    if (parent === facts.commandPid) return true;
    if (parent <= 1 || facts.preexisting.has(parent)) return false;
    current = parent;
  }
  return false;
}

/**
 * A seccomp record in any line the kernel or auditd writes (kmsg message, audit.log line, syslog copy), read
 * by the enricher's parser so that every source is read one way; undefined for any other line.
 */
export function denialOf(line: string): SeccompDenial | undefined {
  const parsed = parseAuditLine(line);
  if (parsed.kind !== 'seccomp') return undefined;
  const r = parsed.record;
  return {
    pid: r.pid,
    comm: r.comm,
    ...(r.exe !== undefined ? { exe: r.exe } : {}),
    auditArch: r.auditArch,
    syscall: r.syscallId,
    // An AUDIT_ARCH_* without __AUDIT_ARCH_64BIT is a 32-bit ABI: on the 64-bit hosts we run on, compat.
    compat: (Number.parseInt(r.auditArch, 16) & 0x80000000) === 0,
    code: r.code,
  };
}
