import pino, { type Logger } from 'pino';
import type { CliIo } from '../command.js';

/** The one logger of a long-running role: JSON lines on stdout, with the role in every line. */
export function roleLogger(io: CliIo, role: string, level: string): Logger {
  return pino({ level, base: { role }, timestamp: pino.stdTimeFunctions.isoTime }, io.stdout);
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
