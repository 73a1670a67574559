import { ApiError } from './api-error.js';
import { LineSplitter } from './lines.js';
import { apiPath, type ObjectPath, withQuery } from './paths.js';
import type { Transport } from './transport.js';
import { parseWatchEvent } from './watch-event.js';

export interface WatchOptions {
  /** Start after this version; unset: the current state first, as ADDED events. */
  readonly resourceVersion?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** The apiserver ends the watch after this long; the caller then watches again from where it got to. */
  readonly timeoutSeconds?: number;
  readonly signal?: AbortSignal;
  readonly maxLineBytes?: number;
}

export type WatchedEvent<T> = {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  readonly object: T;
};

const DEFAULT_TIMEOUT_SECONDS = 300;
// Objects are at most ~1.5 MB in etcd; a line far beyond that is not a watch event.
const MAX_LINE_BYTES = 16 * 1024 * 1024;
// How long past its own timeout the server may stay silent before the connection is taken for dead.
const SILENCE_GRACE_MS = 30_000;

/**
 * One watch request, with bookmarks, until the apiserver ends it: resolves then, rejects on a broken stream
 * or an ERROR event (as ApiError with the Status's code, so a 410 reads as isGone()).
 */
export async function watchOnce<T>(
  transport: Transport,
  target: ObjectPath,
  options: WatchOptions,
  onEvent: (event: WatchedEvent<T>) => void,
): Promise<void> {
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const path = withQuery(apiPath({ ...target, name: undefined }), {
    watch: 1,
    allowWatchBookmarks: true,
    resourceVersion: options.resourceVersion,
    labelSelector: options.labelSelector,
    fieldSelector: options.fieldSelector,
    timeoutSeconds,
  });
  const res = await transport.stream({
    method: 'GET',
    path,
    timeoutMs: timeoutSeconds * 1000 + SILENCE_GRACE_MS,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  const lines = new LineSplitter(options.maxLineBytes ?? MAX_LINE_BYTES);
  const handle = (line: string) => {
    const event = parseWatchEvent<T>(line);
    if (event.type === 'ERROR') {
      throw new ApiError('WATCH', path, event.object.code ?? 500, JSON.stringify(event.object));
    }
    onEvent(event);
  };
  try {
    for await (const chunk of res) {
      for (const line of lines.push(chunk as Buffer)) handle(line);
    }
    const last = lines.end();
    if (last !== undefined) handle(last);
  } catch (err) {
    // An abort mid-stream surfaces as a reset connection; report it as the abort it is.
    if (options.signal?.aborted) throw options.signal.reason;
    throw err;
  } finally {
    res.destroy();
  }
}
