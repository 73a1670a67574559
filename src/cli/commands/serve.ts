import pino, { type Logger } from 'pino';
import type { Role, RoleSettings } from '../../config/role.js';
import { type ProfilingServer, startProfilingServer } from '../../profiling/server.js';
import type { CliIo } from '../command.js';

/**
 * The one logger of a long-running role: JSON lines on stdout, with the role in every line. Its first line
 * says the verbosity, as the seed shows (`kubectl logs ... | grep verbosity`).
 */
export function roleLogger(
  io: CliIo,
  role: Role,
  settings: Pick<RoleSettings, 'logLevel' | 'verbosity'>,
): Logger {
  const log = pino(
    { level: settings.logLevel, base: { role }, timestamp: pino.stdTimeFunctions.isoTime },
    io.stdout,
  );
  log.info(
    { verbosity: settings.verbosity, logLevel: settings.logLevel },
    `Set logging verbosity to ${settings.verbosity}`,
  );
  return log;
}

/** Starts the profiling server when the settings ask for it; the caller closes it on shutdown. */
export async function startRoleProfiling(
  role: Role,
  settings: Pick<RoleSettings, 'profiling'>,
  log: Logger,
): Promise<ProfilingServer | undefined> {
  if (settings.profiling === undefined) return undefined;
  return startProfilingServer({ role, port: settings.profiling.port, log });
}

/** Resolves on the first SIGTERM or SIGINT; a second one exits at once (stuck shutdown). */
export function untilSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'shutting down');
      process.once(signal, () => process.exit(1));
      resolve(signal);
    };
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
  });
}
