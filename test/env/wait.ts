// Bounded polling on a readiness signal: the only way this project waits.
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Included in the timeout error, with the last failure seen. */
  what: string;
  /** An error for which this returns true ends the wait at once (e.g. a pod that can never start). */
  failFast?: (err: unknown) => boolean;
}

/**
 * Calls `probe` until it returns a value other than `undefined`/`false`, or throws
 * after `timeoutMs`. A probe that throws counts as "not yet"; its last error is
 * reported on timeout so a failure says why, not just that it timed out.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions,
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let interval = opts.intervalMs ?? 50;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
      last = undefined;
    } catch (err) {
      if (opts.failFast?.(err)) throw err;
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? `: ${last.message}` : last !== undefined ? `: ${String(last)}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}${why}`);
    }
    await delay(Math.min(interval, Math.max(0, deadline - Date.now())));
    interval = Math.min(interval * 2, 500);
  }
}
