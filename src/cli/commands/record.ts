import { execFileSync } from 'node:child_process';
import { basename } from 'node:path';
import pino from 'pino';
import { AppError, UsageError } from '../../errors.js';
import { nameFromFileName } from '../../profiles/convert.js';
import { profileFromSyscalls } from '../../profiles/recorded.js';
import { DNS1123_SUBDOMAIN } from '../../profiles/schema.js';
import { archOf } from '../../profiles/syscalls/index.js';
import { type LaunchedCommand, launchInFreshMntns } from '../../recorder/launcher.js';
import { nativePaths } from '../../recorder/native.js';
import { nameSyscalls, recordingWarnings } from '../../recorder/names.js';
import { hostFacts, hostMntns } from '../../recorder/proc.js';
import { Recorder } from '../../recorder/recorder.js';
import { runcBaseName } from '../../recorder/runtime-base.js';
import { forwardSignals } from '../../recorder/signals.js';
import type { CliIo, Command } from '../command.js';
import { emitProfile, outputFormat, parseCommandArgs, parseFormat } from '../profile-inputs.js';

const LIVE_INTERVAL_MS = 250;

/** Splits `[options] -- COMMAND...`; without `--`, the first positional starts the command. */
export function splitCommand(args: readonly string[]): { own: string[]; command: string[] } {
  const dash = args.indexOf('--');
  if (dash >= 0) return { own: args.slice(0, dash), command: args.slice(dash + 1) };
  const first = args.findIndex((a, i) => !a.startsWith('-') && (i === 0 || !VALUE_FLAGS.has(args[i - 1]!)));
  return first < 0
    ? { own: [...args], command: [] }
    : { own: args.slice(0, first), command: args.slice(first) };
}
const VALUE_FLAGS = new Set(['-o', '--output', '--format', '--name', '--base', '--profile', '-p']);

function runcBase(env: NodeJS.ProcessEnv): string {
  let out: string;
  try {
    out = execFileSync('runc', ['--version'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    throw new AppError(
      'ERR_BASE_PROFILE',
      `--base runc: cannot run "runc --version" (${(e as Error).message.split('\n')[0]})`,
    );
  }
  const name = runcBaseName(out);
  if (name === undefined)
    throw new AppError('ERR_BASE_PROFILE', `--base runc: cannot read a version from "runc --version"`);
  return name;
}

function logger(io: CliIo) {
  return pino({ level: io.env['SECCOMPCTL_LOG_LEVEL'] ?? 'warn', base: undefined }, io.stderr);
}

export const recordCommand: Command = {
  name: 'record',
  summary: 'record the syscalls of a command (eBPF) into a seccomp profile',
  usage: `Usage: seccompctl record [-o FILE] [--format cr|raw] [--name NAME] [--base runc|none] -- COMMAND [ARG...]

Runs COMMAND in a fresh mount namespace and records, with eBPF, every syscall it and its children make from
its execve on. Writes a profile that allows exactly those and denies the rest with EPERM. Needs root (or
CAP_BPF + CAP_PERFMON + CAP_SYS_ADMIN) and a kernel with BTF (or SPO_BTF_FILE); Linux 5.12 or newer.
Ctrl-C stops COMMAND and still writes what was recorded.

  -o, --output FILE   where to write the profile (default: NAME.yaml, or NAME.json with --format raw)
  --format cr|raw     SeccompProfile YAML (default) or the raw OCI JSON runc/crun load
  --name NAME         metadata.name of the profile (default: from COMMAND's file name)
  --base runc|none    runc: set baseProfileName to runc-v<version of the local runc>, resolved by the
                      operator where the profile is installed; none (default): no base profile

Exit code: COMMAND's (128+N when signal N ended it); 1 when recording failed; 2 usage error.`,
  async run(args, io) {
    const { own, command } = splitCommand(args);
    const { values, positionals } = parseCommandArgs(own, {
      output: { type: 'string', short: 'o' },
      format: { type: 'string' },
      name: { type: 'string' },
      base: { type: 'string' },
    });
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument "${positionals[0]}" (put -- before COMMAND)`);
    if (command.length === 0) throw new UsageError('record needs a COMMAND to run');
    const format = outputFormat(parseFormat(values.format, '--format'), values.output, 'cr');
    const name = values.name ?? nameFromFileName(basename(command[0]!));
    if (!new RegExp(DNS1123_SUBDOMAIN).test(name) || name.length > 253) {
      throw new UsageError(`--name "${name}" is not a valid resource name (lower-case DNS-1123 subdomain)`);
    }
    const base = values.base ?? 'none';
    if (base !== 'runc' && base !== 'none')
      throw new UsageError(`--base must be runc or none, not "${base}"`);
    const baseProfileName = base === 'runc' ? runcBase(io.env) : undefined;
    const output = values.output ?? `${name}.${format === 'raw' ? 'json' : 'yaml'}`;
    const arch = archOf(process.arch);

    const facts = hostFacts(io.env);
    const recorder = new Recorder({ log: logger(io), mode: 'listed', facts, hostMntns: hostMntns() });
    let launched: LaunchedCommand | undefined;
    let live: NodeJS.Timeout | undefined;
    let stopForwarding: (() => void) | undefined;
    try {
      recorder.open();
      launched = await launchInFreshMntns({
        helper: nativePaths(io.env).helper,
        argv: command,
        env: io.env,
        cwd: io.cwd,
      });
      recorder.track(launched.mntns, launched.pin);
      const { pid, mntns } = launched;
      let interrupted = false;
      stopForwarding = forwardSignals(
        () => pid,
        () => {
          interrupted = true;
        },
      );
      launched.release();

      if (io.stderr.isTTY === true) {
        live = setInterval(() => {
          recorder.drain();
          const seen = recorder.peek(mntns)?.native.size ?? 0;
          io.stderr.write(`\r\x1b[Krecording ${name}: ${seen} distinct syscalls`);
        }, LIVE_INTERVAL_MS);
      }
      const status = await launched.exited;
      if (live !== undefined) {
        clearInterval(live);
        io.stderr.write('\r\x1b[K');
      }
      const recorded = recorder.untrack(mntns);
      const named = nameSyscalls(arch, recorded);
      for (const w of recordingWarnings(arch, named)) io.stderr.write(`seccompctl record: warning: ${w}\n`);
      const profile = profileFromSyscalls({
        name,
        arch,
        syscalls: named.names,
        ...(baseProfileName !== undefined ? { baseProfileName } : {}),
      });
      await emitProfile(profile, format, output, io);
      const how =
        status.signal !== null ? `was ended by ${status.signal}` : `exited with code ${status.code}`;
      io.stderr.write(
        `seccompctl record: ${command[0]} ${how}${interrupted ? ' (interrupted)' : ''}; ` +
          `recorded ${named.names.length} syscalls; wrote ${output}\n`,
      );
      return status.code;
    } finally {
      if (live !== undefined) clearInterval(live);
      stopForwarding?.();
      if (launched !== undefined && launched.child.exitCode === null && launched.child.signalCode === null) {
        launched.child.kill('SIGKILL');
      }
      recorder.close();
    }
  },
};
