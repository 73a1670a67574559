import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { FileFollower } from '../enricher/file-follower.js';
import { AppError } from '../errors.js';
import type { SeccompDenial } from './audit.js';
import {
  auditdLogFile,
  chooseDenialSource,
  type DenialSource,
  denialOf,
  liveParent,
  type PidFacts,
  parseAuditStatus,
} from './denial-source.js';
import { KmsgReader } from './kmsg.js';

export interface DenialLogOptions {
  /** auditd's log (default: log_file in /etc/audit/auditd.conf, else /var/log/audit/audit.log) */
  readonly auditLog?: string | undefined;
  readonly auditdConf?: string;
  readonly kmsg?: string;
  readonly procBase?: string;
}

/** The kernel's seccomp records from the moment the log was opened, wherever this machine sends them. */
export interface DenialLog {
  readonly source: DenialSource;
  /**
   * After the command has exited: the records `accept` takes, once every record the kernel queued before
   * this call has had time to arrive (at most a few seconds).
   */
  collect(accept: (d: SeccompDenial) => boolean): Promise<SeccompDenial[]>;
  close(): Promise<void>;
}

export const DEFAULT_AUDIT_LOG = '/var/log/audit/audit.log';

// Without auditd the kernel's audit thread prints records shortly after the syscall, not within it.
const KMSG_SETTLE_MS = 300;
// auditd adds a hop (netlink, its queue, its write): a marker it logs after our records bounds the wait.
const AUDIT_SETTLE_MS = 3_000;
const POLL_MS = 50;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The audit daemon the kernel sends records to, as `auditctl -s` reports it; undefined when it cannot tell. */
function kernelAuditPid(): number | undefined {
  const res = spawnSync('auditctl', ['-s'], { encoding: 'utf8', timeout: 5_000 });
  if (res.error !== undefined || res.status !== 0) return undefined;
  return parseAuditStatus(res.stdout);
}

function auditdRunning(procBase: string): boolean {
  for (const entry of readdirSync(procBase)) {
    if (/^\d+$/.test(entry) && readText(`${procBase}/${entry}/comm`)?.trim() === 'auditd') return true;
  }
  return false;
}

/** Where this machine's seccomp records land now; reads host state only. */
export function denialSource(options: DenialLogOptions = {}): DenialSource {
  const procBase = options.procBase ?? '/proc';
  const auditLog =
    options.auditLog ??
    auditdLogFile(readText(options.auditdConf ?? '/etc/audit/auditd.conf') ?? '') ??
    DEFAULT_AUDIT_LOG;
  const auditPid = kernelAuditPid();
  let mtimeMs: number | undefined;
  try {
    mtimeMs = statSync(auditLog).mtimeMs;
  } catch {
    mtimeMs = undefined;
  }
  return chooseDenialSource({
    auditPid,
    auditComm: auditPid ? readText(`${procBase}/${auditPid}/comm`)?.trim() : undefined,
    auditdRunning: auditPid === undefined && auditdRunning(procBase),
    auditLog,
    auditLogMtimeMs: mtimeMs,
    kmsg: options.kmsg ?? '/dev/kmsg',
    nowMs: Date.now(),
  });
}

/** Every pid alive now, and the parent of any later: what `ownedByCommand` needs to know. */
export function pidSnapshot(
  commandPid: number,
  preexisting: ReadonlySet<number>,
  procBase = '/proc',
): PidFacts {
  return {
    commandPid,
    preexisting,
    parentOf: (pid) => {
      const stat = readText(`${procBase}/${pid}/stat`);
      return stat === undefined ? undefined : liveParent(stat);
    },
  };
}

export function livePids(procBase = '/proc'): Set<number> {
  return new Set(
    readdirSync(procBase)
      .filter((e) => /^\d+$/.test(e))
      .map(Number),
  );
}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** Starts reading at the current end of wherever the kernel's records go now (the audit log or /dev/kmsg). */
export async function openDenialLog(options: DenialLogOptions = {}): Promise<DenialLog> {
  const source = denialSource(options);
  if (source.kind === 'kmsg') return openKmsg(source);
  return openAuditLog(source);
}

function openKmsg(source: Extract<DenialSource, { kind: 'kmsg' }>): DenialLog {
  let reader: KmsgReader;
  try {
    reader = new KmsgReader(source.path);
    reader.skipExisting();
  } catch (e) {
    throw new AppError('ERR_INPUT_READ', `cannot read ${source.path} (${code(e)})`, { cause: e });
  }
  return {
    source,
    async collect(accept) {
      const denials: SeccompDenial[] = [];
      for (let waited = 0; waited <= KMSG_SETTLE_MS; waited += POLL_MS) {
        for (const line of reader.read()) {
          const d = denialOf(line);
          if (d !== undefined && accept(d)) denials.push(d);
        }
        if (denials.length > 0) break;
        await sleep(POLL_MS);
      }
      return denials;
    },
    async close() {
      reader.close();
    },
  };
}

async function openAuditLog(source: Extract<DenialSource, { kind: 'audit' }>): Promise<DenialLog> {
  const why = `${source.reason}, so seccomp records are in its log, not in /dev/kmsg`;
  let exists = true;
  try {
    statSync(source.path);
  } catch {
    exists = false;
  }
  if (!exists) {
    throw new AppError(
      'ERR_INPUT_READ',
      `${why}; ${source.path} does not exist: pass --audit-log FILE with the file the daemon writes (auditd.conf log_file)`,
    );
  }
  const follower = new FileFollower({ kind: 'audit', path: source.path, log: pino({ level: 'silent' }) });
  const pending: string[] = [];
  const sink = (lines: readonly string[]) => {
    pending.push(...lines);
  };
  try {
    // The first read only finds the end: what the file held before the command is not its.
    await follower.readAvailable(sink);
  } catch (e) {
    await follower.stop();
    throw new AppError('ERR_INPUT_READ', `${why}; cannot read ${source.path} (${code(e)})`, { cause: e });
  }
  pending.length = 0;
  return {
    source,
    async collect(accept) {
      const denials: SeccompDenial[] = [];
      // The kernel queues records in order, and auditd writes them in order: once a message sent now is in
      // the file, so is every record of the command. Without auditctl the wait is timed instead.
      const marker = `seccompctl-run-${process.pid}-${randomBytes(6).toString('hex')}`;
      const marked = spawnSync('auditctl', ['-m', marker], { stdio: 'ignore', timeout: 5_000 }).status === 0;
      let seen = false;
      for (let waited = 0; waited <= AUDIT_SETTLE_MS; waited += POLL_MS) {
        await follower.readAvailable(sink);
        for (const line of pending.splice(0)) {
          if (marked && line.includes(marker)) seen = true;
          const d = denialOf(line);
          if (d !== undefined && accept(d)) denials.push(d);
        }
        if (seen || (!marked && denials.length > 0)) break;
        await sleep(POLL_MS);
      }
      return denials;
    },
    async close() {
      await follower.stop();
    },
  };
}
