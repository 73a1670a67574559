import { AppError, UsageError } from '../../errors.js';
import { resolveBase } from '../../profiles/base.js';
import { toRaw } from '../../profiles/document.js';
import { syscallName } from '../../profiles/syscalls/index.js';
import { archOfAudit, type SeccompDenial } from '../../recorder/audit.js';
import { runConfined } from '../../recorder/confine.js';
import { loadNative, nativePaths } from '../../recorder/native.js';
import { forwardSignals } from '../../recorder/signals.js';
import type { Command } from '../command.js';
import { loadBases, loadProfile, parseCommandArgs } from '../profile-inputs.js';
import { splitCommand } from './record.js';

function describe(d: SeccompDenial): string {
  const arch = archOfAudit(d.auditArch);
  const name = arch !== undefined && !d.compat ? syscallName(arch, d.syscall) : undefined;
  const what =
    name !== undefined
      ? `${name} (syscall ${d.syscall})`
      : `syscall ${d.syscall} (arch ${d.auditArch}${d.compat ? ', 32-bit' : ''})`;
  return `${what} in pid ${d.pid} (${d.comm})`;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run a command under a seccomp profile, naming any denied syscall',
  usage: `Usage: seccompctl run --profile FILE [--base FILE]... [--no-log] [--audit-log FILE] -- COMMAND [ARG...]

Runs COMMAND under the profile (SeccompProfile YAML or raw OCI JSON), as runc would: the filter is installed
just before COMMAND's execve. When COMMAND fails, the syscalls the profile denied in COMMAND and the processes
it started are named from the kernel's seccomp audit records (the filter is installed with
SECCOMP_FILTER_FLAG_LOG; reading them needs root). The kernel hands those records to auditd while it runs,
and prints them to /dev/kmsg only when no audit daemon is registered: run reads whichever gets them.

  -p, --profile FILE  the profile
  --base FILE         the profile named by baseProfileName (repeat for chains)
  --no-log            do not log denials (and so do not name them)
  --audit-log FILE    auditd's log, read while an audit daemon runs (default: log_file of
                      /etc/audit/auditd.conf, else /var/log/audit/audit.log)

Exit code: COMMAND's (128+N when signal N ended it); 1 when the profile cannot be used; 2 usage error.`,
  async run(args, io) {
    const { own, command } = splitCommand(args);
    const { values, positionals } = parseCommandArgs(own, {
      profile: { type: 'string', short: 'p' },
      base: { type: 'string', multiple: true },
      'no-log': { type: 'boolean' },
      'audit-log': { type: 'string' },
    });
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument "${positionals[0]}" (put -- before COMMAND)`);
    if (values.profile === undefined) throw new UsageError('run needs --profile FILE');
    if (command.length === 0) throw new UsageError('run needs a COMMAND to run');

    const { profile } = await loadProfile(values.profile, io);
    let spec = profile.spec;
    if (spec.baseProfileName !== undefined) {
      if ((values.base ?? []).length === 0) {
        throw new AppError(
          'ERR_BASE_PROFILE',
          `${values.profile}: baseProfileName "${spec.baseProfileName}" must be given with --base FILE to run locally`,
        );
      }
      spec = resolveBase(spec, await loadBases(values.base ?? [], io), { self: profile.metadata.name });
    }
    const raw = toRaw({ ...profile, spec });

    let pid: number | undefined;
    const stopForwarding = forwardSignals(() => pid);
    try {
      const result = await runConfined({
        addon: loadNative(io.env),
        helper: nativePaths(io.env).helper,
        profile: raw,
        argv: command,
        logDenials: values['no-log'] !== true,
        denialLog: { auditLog: values['audit-log'] },
        env: io.env,
        cwd: io.cwd,
        onSpawn: (p) => {
          pid = p;
        },
      });
      if (result.unknown.length > 0) {
        io.stderr.write(
          `seccompctl run: warning: libseccomp does not know ${result.unknown.join(', ')}; not in the filter\n`,
        );
      }
      if (result.status.code !== 0) {
        const how =
          result.status.signal !== null
            ? `was ended by ${result.status.signal}`
            : `exited with code ${result.status.code}`;
        const lines = [...new Set(result.denials.map(describe))];
        if (lines.length > 0) {
          io.stderr.write(
            `seccompctl run: ${command[0]} ${how}; the profile denied:\n${lines.map((l) => `  ${l}\n`).join('')}`,
          );
        } else if (result.denialsUnavailable !== undefined) {
          io.stderr.write(
            `seccompctl run: ${command[0]} ${how}; cannot tell whether the profile denied a syscall: ${result.denialsUnavailable}\n`,
          );
        } else {
          const where = result.denialSource !== undefined ? ` in ${result.denialSource.path}` : '';
          io.stderr.write(
            `seccompctl run: ${command[0]} ${how}; the kernel logged no seccomp denial for it${where}\n`,
          );
        }
      }
      return result.status.code;
    } finally {
      stopForwarding();
    }
  },
};
