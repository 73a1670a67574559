import type { Logger } from 'pino';
import { KmsgReader } from '../recorder/kmsg.js';
import type { LineSink, LineSource } from './line-source.js';

/**
 * Follows the kernel log through /dev/kmsg, from now on. The device cannot be put in libuv's poll loop, so
 * the non-blocking reader is drained on a timer; the kernel's ring buffer holds records meanwhile (a gap
 * is skipped by the reader when it overflows).
 */
export class KmsgFollower implements LineSource {
  readonly kind = 'kmsg' as const;
  readonly path: string;
  readonly #log: Logger;
  readonly #pollMs: number;
  #reader: KmsgReader | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #sink: LineSink | undefined;
  #stopped = false;

  constructor(options: { path?: string; log: Logger; pollMs?: number }) {
    this.path = options.path ?? '/dev/kmsg';
    this.#log = options.log;
    this.#pollMs = options.pollMs ?? 100;
  }

  start(sink: LineSink, onError: (err: unknown) => void): void {
    try {
      this.#reader = new KmsgReader(this.path);
      this.#reader.skipExisting();
    } catch (err) {
      onError(err);
      return;
    }
    this.#sink = sink;
    this.#log.info({ path: this.path }, 'following kernel log');
    const tick = () => {
      this.#timer = undefined;
      this.#pass().then(
        () => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.#pollMs);
        },
        (err) => {
          if (!this.#stopped) onError(err);
        },
      );
    };
    tick();
  }

  catchUp(): Promise<void> {
    return this.#pass();
  }

  // Passes run one after another, so a catch-up never interleaves its lines with the timer's.
  #pass(): Promise<void> {
    const run = async () => {
      const reader = this.#reader;
      const sink = this.#sink;
      if (reader === undefined || sink === undefined || this.#stopped) return;
      const lines = reader.read();
      if (lines.length > 0) await sink(lines);
    };
    const next = this.#running.then(run, run);
    this.#running = next.catch(() => {});
    return next;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
    this.#reader?.close();
    this.#reader = undefined;
  }
}
