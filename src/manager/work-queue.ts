import type { Logger } from 'pino';

const MAX_BACKOFF_MS = 30_000;

export interface WorkQueueOptions {
  /** The level a failed pass is logged at (default warn): a failure that only means "try again" can be quieter. */
  readonly failureLevel?: (err: unknown) => 'debug' | 'warn';
}

/**
 * A keyed, deduplicating work queue: a burst of events for one key costs one pass, keys are handled one at a
 * time, and a failed key is retried with exponential back-off. Nothing runs until `start()`, so handlers never
 * see caches that have not synced. `addSettled` delays a key's pass and folds the adds of that key meanwhile into
 * it, for events that come in bursts (a pod sends several as it starts).
 */
export class WorkQueue {
  private readonly queue = new Set<string>();
  /** Keys whose pass waits for their events to settle. */
  private readonly settling = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private draining = false;
  private running = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly handle: (key: string) => Promise<void>,
    private readonly log: Logger,
    private readonly onResult: (ok: boolean, key: string, err?: unknown) => void = () => {},
    private readonly options: WorkQueueOptions = {},
  ) {}

  add(key: string | undefined): void {
    if (!key) return;
    this.queue.add(key);
    if (this.running && !this.draining) setImmediate(() => void this.drain());
  }

  /** Queues `key` in `delayMs`; further settled adds of it until then change nothing. */
  addSettled(key: string | undefined, delayMs: number): void {
    if (!key || this.settling.has(key)) return;
    const timer = setTimeout(() => {
      this.settling.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.settling.set(key, timer);
  }

  start(): void {
    this.running = true;
    setImmediate(() => void this.drain());
  }

  /** Stops handling keys and drops the settling ones; a pass under way finishes. */
  stop(): void {
    this.running = false;
    for (const timer of this.settling.values()) clearTimeout(timer);
    this.settling.clear();
    // waiters for settling passes that will now never run
    if (this.isIdle()) this.releaseIdle();
  }

  /** Resolves when nothing is settling, queued or being handled. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return !this.draining && this.queue.size === 0 && this.settling.size === 0;
  }

  private releaseIdle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
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
          const level = this.options.failureLevel?.(err) ?? 'warn';
          this.log[level]({ err, key, retryMs: delay }, 'reconcile failed; retrying');
          setTimeout(() => this.add(key), delay).unref();
        }
      }
    } finally {
      this.draining = false;
      if (this.isIdle()) this.releaseIdle();
    }
  }
}
