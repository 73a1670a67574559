import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Duplex } from 'node:stream';
import { AppError } from '../errors.js';
import type { RawSeccompProfile } from '../profiles/types.js';
import { isDenial, parseSeccompAudit, type SeccompDenial } from './audit.js';
import { filterRequest } from './filter-spec.js';
import { KmsgReader } from './kmsg.js';
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
}

// Without auditd the kernel's audit thread prints records shortly after the syscall, not within it.
const AUDIT_SETTLE_MS = 300;

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

  let kmsg: KmsgReader | undefined;
  let denialsUnavailable: string | undefined;
  if (logDenials) {
    try {
      kmsg = new KmsgReader();
      kmsg.skipExisting();
    } catch (e) {
      denialsUnavailable = `cannot read /dev/kmsg (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
  } else {
    denialsUnavailable = 'denial logging is off';
  }

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

    const denials: SeccompDenial[] = [];
    if (kmsg !== undefined && status.code !== 0) {
      for (let waited = 0; waited <= AUDIT_SETTLE_MS; waited += 50) {
        for (const line of kmsg.read()) {
          const d = parseSeccompAudit(line);
          if (d !== undefined && isDenial(d)) denials.push(d);
        }
        if (denials.length > 0) break;
        await sleep(50);
      }
    }
    return {
      status,
      unknown: compiled.unknown,
      denials,
      ...(denialsUnavailable !== undefined ? { denialsUnavailable } : {}),
    };
  } finally {
    kmsg?.close();
  }
}
