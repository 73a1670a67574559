/**
 * Runs one read pass on a timer and on demand, never two at once: a source's reads share a position (a
 * file offset, the kmsg cursor), so a catch-up must queue behind the timer's pass instead of racing it.
 */
export class SerialPoller {
  readonly #pass: () => Promise<void>;
  readonly #pollMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(pass: () => Promise<void>, pollMs: number) {
    this.#pass = pass;
    this.#pollMs = pollMs;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Passes every `pollMs` after the previous one ends; the first failure stops the loop and reaches `onError`. */
  start(onError: (err: unknown) => void): void {
    const tick = () => {
      this.#timer = undefined;
      this.runNow().then(
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

  /** One pass after any pass in flight; nothing once stopped. */
  runNow(): Promise<void> {
    const run = () => (this.#stopped ? Promise.resolve() : this.#pass());
    const next = this.#running.then(run, run);
    this.#running = next.catch(() => {});
    return next;
  }

  /** Stops the timer and waits for the pass in flight, so the caller may close what the pass reads. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
  }
}
