import { archOfAudit } from '../recorder/audit.js';
import { type Arch, syscallName } from '../profiles/syscalls/index.js';

/** One seccomp audit record, whatever shape of line it came in. */
export interface SeccompRecord {
  /** The audit event id as logged, `<seconds>.<millis>:<serial>`: unique per boot, ties multi-record events */
  readonly timestamp: string;
  readonly pid: number;
  readonly comm: string;
  /** Absent when the kernel could not name it (kernel threads, exited mm) */
  readonly exe: string | undefined;
  /** AUDIT_ARCH_* in lower-case hex, as logged (c000003e = x86_64) */
  readonly auditArch: string;
  /** undefined for an arch we have no syscall table for (i386 compat, arm32) */
  readonly arch: Arch | undefined;
  readonly syscallId: number;
  readonly syscallName: string | undefined;
  /** The filter's SECCOMP_RET_* value (0x7ffc0000 = SCMP_ACT_LOG) */
  readonly code: number;
}

export type MalformedReason = 'no-event-id' | 'missing-field' | 'bad-number' | 'too-long';

export type ParsedLine =
  | { readonly kind: 'seccomp'; readonly record: SeccompRecord }
  | { readonly kind: 'ignored' }
  | { readonly kind: 'malformed'; readonly reason: MalformedReason };

/** Longer lines are not audit records: the kernel caps one at 8 KiB (MAX_AUDIT_MESSAGE_LENGTH). */
export const MAX_LINE = 16 * 1024;

const IGNORED: ParsedLine = { kind: 'ignored' };

// auditd writes `type=SECCOMP msg=audit(...)`; the kernel (kmsg, and syslog daemons copying it) writes
// `audit: type=1326 audit(...)`. Anything else is some other log line and is not ours to count as bad.
function markerEnd(line: string): number {
  let i = line.indexOf('type=SECCOMP');
  if (i >= 0) return i + 12;
  i = line.indexOf('type=1326');
  if (i >= 0) return i + 9;
  return -1;
}

/** Classifies one log line (auditd, syslog or a /dev/kmsg message) and parses it if it is a seccomp record. */
export function parseAuditLine(line: string): ParsedLine {
  const start = markerEnd(line);
  if (start < 0) return IGNORED;
  // A marker glued to more characters (type=13260, type=SECCOMPX) is another record type.
  if (start < line.length && line.charCodeAt(start) !== 32 && line.charCodeAt(start) !== 9) return IGNORED;
  if (line.length > MAX_LINE) return { kind: 'malformed', reason: 'too-long' };
  const open = line.indexOf('audit(', start);
  const close = open < 0 ? -1 : line.indexOf(')', open + 6);
  if (close < 0) return { kind: 'malformed', reason: 'no-event-id' };
  const timestamp = line.slice(open + 6, close);
  if (!/^\d+\.\d+:\d+$/.test(timestamp)) return { kind: 'malformed', reason: 'no-event-id' };

  // auditd's ENRICHED format appends interpreted fields after a GS (0x1d) separator.
  const gs = line.indexOf('\x1d', close);
  const fields = parseFields(line, close + 1, gs < 0 ? line.length : gs);
  const pidText = fields.get('pid');
  const syscallText = fields.get('syscall');
  const archText = fields.get('arch');
  if (pidText === undefined || syscallText === undefined || archText === undefined) {
    return { kind: 'malformed', reason: 'missing-field' };
  }
  const pid = decimal(pidText);
  const syscallId = decimal(syscallText);
  if (pid === undefined || syscallId === undefined || !/^[0-9a-fA-F]{1,8}$/.test(archText)) {
    return { kind: 'malformed', reason: 'bad-number' };
  }
  const codeText = fields.get('code');
  const code = codeText !== undefined && /^0x[0-9a-fA-F]{1,8}$/.test(codeText) ? Number(codeText) : 0;
  const auditArch = archText.toLowerCase();
  const arch = archOfAudit(auditArch);
  return {
    kind: 'seccomp',
    record: {
      timestamp,
      pid,
      comm: untrusted(fields.get('comm')) ?? '',
      exe: untrusted(fields.get('exe')),
      auditArch,
      arch,
      syscallId,
      syscallName: arch === undefined ? undefined : syscallName(arch, syscallId),
      code,
    },
  };
}

function decimal(text: string): number | undefined {
  if (text.length === 0 || text.length > 15) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(text);
}

/**
 * `key=value key="quoted value" ...` from `from` to `to`. The kernel quotes string fields, and writes them
 * as hex when they hold a space, quote or control character (audit_log_untrustedstring), so values never
 * contain a space.
 */
export function parseFields(line: string, from: number, to: number): Map<string, string> {
  const out = new Map<string, string>();
  let i = from;
  while (i < to) {
    while (i < to && line.charCodeAt(i) === 32) i++;
    const eq = line.indexOf('=', i);
    if (eq < 0 || eq >= to) break;
    const sp = line.indexOf(' ', i);
    if (sp >= 0 && sp < eq) {
      // a bare word (the syslog "audit:" prefix, a mangled token): skip it
      i = sp + 1;
      continue;
    }
    const key = line.slice(i, eq);
    let end: number;
    let value: string;
    if (line.charCodeAt(eq + 1) === 34) {
      const q = line.indexOf('"', eq + 2);
      end = q < 0 || q >= to ? to : q + 1;
      value = line.slice(eq + 1, end);
    } else {
      const s = line.indexOf(' ', eq + 1);
      end = s < 0 || s > to ? to : s;
      value = line.slice(eq + 1, end);
    }
    if (!out.has(key)) out.set(key, value);
    i = end + 1;
  }
  return out;
}

/** A string field as the kernel logs it: "quoted", hex-encoded, or (null). */
export function untrusted(value: string | undefined): string | undefined {
  if (value === undefined || value === '(null)') return undefined;
  if (value.startsWith('"')) return value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : undefined;
  if (value.length % 2 === 0 && /^[0-9A-F]+$/.test(value)) return Buffer.from(value, 'hex').toString('utf8');
  return value;
}
