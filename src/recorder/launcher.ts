import { type ChildProcess, spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { AppError } from '../errors.js';
import { type MntnsPin, pinMntns } from './proc.js';

export interface ExitStatus {
  /** The exit code, or 128 + the signal number when a signal ended it (as shells report it). */
  readonly code: number;
  readonly signal: NodeJS.Signals | null;
}

/** A command waiting in its own fresh mount namespace for release(). */
export interface LaunchedCommand {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly mntns: number;
  /** Holds the namespace until the recorder is done with it; hand it to Recorder.track(). */
  readonly pin: MntnsPin;
  /** Lets the command exec; what it does from its execve on is in the namespace's recording. */
  release(): void;
  readonly exited: Promise<ExitStatus>;
}

export interface LaunchOptions {
  /** spo-exec (native/helper/spo_exec.c) */
  readonly helper: string;
  readonly argv: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** The command's stdin, stdout, stderr (default: ours). */
  readonly stdio?: readonly [
    'inherit' | 'ignore' | 'pipe',
    'inherit' | 'ignore' | 'pipe',
    'inherit' | 'ignore' | 'pipe',
  ];
  readonly procBase?: string;
}

export function exitStatus(code: number | null, signal: NodeJS.Signals | null): ExitStatus {
  if (code !== null) return { code, signal: null };
  const nr = signal !== null ? (SIGNALS[signal] ?? 0) : 0;
  return { code: 128 + nr, signal };
}

const SIGNALS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSYS: 31,
};

export function waitExit(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve(exitStatus(child.exitCode, child.signalCode));
      return;
    }
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(exitStatus(code, signal)));
  });
}

/**
 * Starts argv under spo-exec in a new mount namespace and stops it just before execve, so the caller can pin the
 * namespace and start recording it first. If we die before release(), spo-exec exits without running the command;
 * after it, the command gets SIGKILL with us (PR_SET_PDEATHSIG).
 */
export async function launchInFreshMntns(opts: LaunchOptions): Promise<LaunchedCommand> {
  const stdio = opts.stdio ?? ['inherit', 'inherit', 'inherit'];
  const child = spawn(opts.helper, ['--new-mntns', '--sync-fd', '3', '--', ...opts.argv], {
    stdio: [...stdio, 'pipe'],
    ...(opts.env !== undefined ? { env: opts.env } : {}),
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
  });
  const exited = waitExit(child);
  const sync = child.stdio[3] as Duplex;
  const ready = await new Promise<boolean>((resolve) => {
    const onData = (chunk: Buffer) => {
      if (chunk.includes(0x52 /* R */)) done(true);
    };
    const done = (ok: boolean) => {
      sync.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onExit);
      resolve(ok);
    };
    const onExit = () => done(false);
    sync.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onExit);
  });
  if (!ready || child.pid === undefined) {
    const status = await exited.catch((e: Error) => e);
    const why = status instanceof Error ? status.message : `spo-exec exited with ${status.code}`;
    throw new AppError('ERR_EXEC', `cannot start ${opts.argv[0] ?? 'command'}: ${why}`);
  }
  let pin: MntnsPin;
  try {
    pin = pinMntns(child.pid, opts.procBase);
  } catch (e) {
    child.kill('SIGKILL');
    throw new AppError(
      'ERR_EXEC',
      `cannot open the mount namespace of pid ${child.pid}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  let released = false;
  return {
    child,
    pid: child.pid,
    mntns: pin.mntns,
    pin,
    exited,
    release() {
      if (released) return;
      released = true;
      sync.end('G');
    },
  };
}
