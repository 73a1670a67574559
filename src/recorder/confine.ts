import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { AppError } from '../errors.js';
import type { RawSeccompProfile } from '../profiles/types.js';
import { isDenial, type SeccompDenial } from './audit.js';
import { type DenialLog, type DenialLogOptions, livePids, openDenialLog, pidSnapshot } from './denial-log.js';
import { type DenialSource, ownedByCommand } from './denial-source.js';
import { filterRequest } from './filter-spec.js';
import { type ExitStatus, waitExit } from './launcher.js';
import type { NativeAddon } from './native.js';

export interface ConfineOptions {
  readonly addon: NativeAddon;
  /** spo-exec */
  readonly helper: string;
  readonly profile: RawSeccompProfile;
  readonly argv: readonly string[];
  /** Log denials to the kernel log, so a failure can name the syscall (default true). */
  readonly logDenials?: boolean;
  /** Where to read them: auditd's log while auditd takes the kernel's records, else /dev/kmsg. */
  readonly denialLog?: DenialLogOptions;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly stdio?: readonly [
    'inherit' | 'ignore' | 'pipe',
    'inherit' | 'ignore' | 'pipe',
    'inherit' | 'ignore' | 'pipe',
  ];
  /** Lets a caller forward signals to the command. */
  readonly onSpawn?: (pid: number) => void;
}

export interface ConfinedRun {
  readonly status: ExitStatus;
  /** Syscall names this libseccomp does not know: skipped, as runc does. */
  readonly unknown: readonly string[];
  /** Denials the kernel logged while the command ran (only looked for when it failed). */
  readonly denials: readonly SeccompDenial[];
  /** Why denials could not be looked for, if they could not. */
  readonly denialsUnavailable?: string;
  /** Where they were looked for. */
  readonly denialSource?: DenialSource;
}

/** Runs argv under the profile: the filter goes on in spo-exec right before execve, never in this process. */
export async function runConfined(opts: ConfineOptions): Promise<ConfinedRun> {
  const logDenials = opts.logDenials ?? true;
  const { spec, flags } = filterRequest(opts.profile, { log: logDenials });
  let compiled: { filter: Buffer; unknown: string[] };
  try {
    compiled = opts.addon.compileSeccomp(spec);
  } catch (e) {
    throw new AppError('ERR_SECCOMP', `cannot compile the profile: ${(e as Error).message}`, { cause: e });
  }

  let denialLog: DenialLog | undefined;
  let denialsUnavailable: string | undefined;
  if (logDenials) {
    try {
      denialLog = await openDenialLog(opts.denialLog);
    } catch (e) {
      denialsUnavailable = (e as Error).message;
    }
  } else {
    denialsUnavailable = 'denial logging is off';
  }
  // Records name only a pid: whoever was alive before the command started is not the command.
  const preexisting = denialLog !== undefined ? livePids() : new Set<number>();

  try {
    const child = spawn(
      opts.helper,
      ['--filter-fd', '3', '--filter-flags', String(flags), '--', ...opts.argv],
      {
        stdio: [...(opts.stdio ?? ['inherit', 'inherit', 'inherit']), 'pipe'],
        ...(opts.env !== undefined ? { env: opts.env } : {}),
        ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      },
    );
    const exited = waitExit(child);
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    const filterPipe = child.stdio[3] as Duplex;
    // spo-exec exiting early (bad command) closes its end; the status says why, not the write error
    filterPipe.on('error', () => {});
    filterPipe.end(compiled.filter);
    const status = await exited.catch((e: Error) => {
      throw new AppError('ERR_EXEC', `cannot start ${opts.argv[0] ?? 'command'}: ${e.message}`, { cause: e });
    });

    let denials: SeccompDenial[] = [];
    if (denialLog !== undefined && status.code !== 0 && child.pid !== undefined) {
      const pids = pidSnapshot(child.pid, preexisting);
      denials = await denialLog.collect((d) => isDenial(d) && ownedByCommand(d.pid, pids));
    }
    return {
      status,
      unknown: compiled.unknown,
      denials,
      ...(denialsUnavailable !== undefined ? { denialsUnavailable } : {}),
      ...(denialLog !== undefined ? { denialSource: denialLog.source } : {}),
    };
  } finally {
    await denialLog?.close();
  }
}
