import type { Logger } from 'pino';

const MAX_BACKOFF_MS = 30_000;

/**
 * A keyed, deduplicating work queue: a burst of events for one key costs one pass, keys are handled one at a
 * time, and a failed key is retried with exponential back-off. Nothing runs until `start()`, so handlers never
 * see caches that have not synced.
 */
export class WorkQueue {
  private readonly queue = new Set<string>();
  private readonly failures = new Map<string, number>();
  private draining = false;
  private running = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly handle: (key: string) => Promise<void>,
    private readonly log: Logger,
    private readonly onResult: (ok: boolean, key: string, err?: unknown) => void = () => {},
  ) {}

  add(key: string | undefined): void {
    if (!key) return;
    this.queue.add(key);
    if (this.running && !this.draining) setImmediate(() => void this.drain());
  }

  start(): void {
    this.running = true;
    setImmediate(() => void this.drain());
  }

  stop(): void {
    this.running = false;
  }

  /** Resolves when nothing is queued or being handled. */
  idle(): Promise<void> {
    if (!this.draining && this.queue.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.running && this.queue.size > 0) {
        const [key] = this.queue as unknown as [string];
        this.queue.delete(key);
        try {
          await this.handle(key);
          this.failures.delete(key);
          this.onResult(true, key);
        } catch (err) {
          const n = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, n);
          const delay = Math.min(250 * 2 ** n, MAX_BACKOFF_MS);
          this.onResult(false, key, err);
          this.log.warn({ err, key, retryMs: delay }, 'reconcile failed; retrying');
          setTimeout(() => this.add(key), delay).unref();
        }
      }
    } finally {
      this.draining = false;
      if (this.queue.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
