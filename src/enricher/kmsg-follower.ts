import type { Logger } from 'pino';
import { KmsgReader } from '../recorder/kmsg.js';
import type { LineSink, LineSource } from './line-source.js';
import { SerialPoller } from './serial-poller.js';

/**
 * Follows the kernel log through /dev/kmsg, from now on. The device cannot be put in libuv's poll loop, so
 * the non-blocking reader is drained on a timer; the kernel's ring buffer holds records meanwhile (a gap
 * is skipped by the reader when it overflows).
 */
export class KmsgFollower implements LineSource {
  readonly kind = 'kmsg' as const;
  readonly path: string;
  readonly #log: Logger;
  readonly #poller: SerialPoller;
  #reader: KmsgReader | undefined;
  #sink: LineSink | undefined;

  constructor(options: { path?: string; log: Logger; pollMs?: number }) {
    this.path = options.path ?? '/dev/kmsg';
    this.#log = options.log;
    this.#poller = new SerialPoller(() => this.#pass(), options.pollMs ?? 100);
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
    this.#poller.start(onError);
  }

  catchUp(): Promise<void> {
    return this.#poller.runNow();
  }

  async #pass(): Promise<void> {
    const reader = this.#reader;
    const sink = this.#sink;
    if (reader === undefined || sink === undefined) return;
    const lines = reader.read();
    if (lines.length > 0) await sink(lines);
  }

  async stop(): Promise<void> {
    await this.#poller.stop();
    this.#reader?.close();
    this.#reader = undefined;
  }
}
