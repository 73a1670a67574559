import type { Logger } from 'pino';
import { describeError, isGone } from './api-error.js';
import type { KubeClient, Target } from './client.js';
import { ObjectStore } from './object-store.js';
import { diffRelist } from './relist.js';
import type { Informer, KubeObject } from './types.js';
import type { WatchedEvent } from './watch.js';

/** Where an informer gets its objects; the client's list and watch, or a wrapper around them in tests. */
export interface ListWatchSource<T> {
  list(signal: AbortSignal): Promise<{ readonly items: T[]; readonly resourceVersion: string }>;
  /** One watch from `resourceVersion` until the server ends it; rejects as watchOnce() does. */
  watch(
    resourceVersion: string,
    onEvent: (event: WatchedEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

export interface RestInformerOptions<T> {
  readonly log: Logger;
  /** Names the informer in logs. */
  readonly what: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** How long the apiserver keeps one watch open; default a random 5-10 minutes, so nodes do not reconnect in step. */
  readonly watchTimeoutSeconds?: number;
  /** Objects per list page: bounds the memory a relist needs beyond the cache itself. */
  readonly pageSize?: number;
  /**
   * Applied to every object before it is cached; the default drops metadata.managedFields, which nobody here
   * reads. It must be idempotent: makeRestInformer's source applies it to each list page as the page arrives
   * (so a page's whole objects are garbage before the next page is read), and the informer again to what the
   * source returns.
   */
  readonly transform?: (obj: T) => T;
}

const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
// Small pages: a daemon (re)starting on a full node holds one page of whole objects at a time, not 500.
const PAGE_SIZE = 100;
// A watch that ends sooner than this having delivered nothing counts as a failure, so it cannot spin.
const MIN_WATCH_MS = 1_000;

export function dropManagedFields<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata as { managedFields?: unknown } | undefined;
  if (meta !== undefined && 'managedFields' in meta) delete meta.managedFields;
  return obj;
}

/** List (in pages) and watch of one resource through the client; list items get the kind and apiVersion watches carry. */
export function listWatchSource<T extends KubeObject>(
  client: KubeClient,
  target: Target,
  options: Pick<
    RestInformerOptions<T>,
    'labelSelector' | 'fieldSelector' | 'watchTimeoutSeconds' | 'pageSize' | 'transform'
  >,
): ListWatchSource<T> {
  const transform = options.transform ?? ((o: T) => o);
  return {
    async list(signal) {
      const items: T[] = [];
      let resourceVersion = '';
      let next: string | undefined;
      do {
        const page = await client.list<T>({
          ...target,
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          limit: options.pageSize ?? PAGE_SIZE,
          continue: next,
          signal,
        });
        const kind = page.kind?.replace(/List$/, '');
        for (const item of page.items) {
          item.apiVersion ??= page.apiVersion;
          item.kind ??= kind;
          items.push(transform(item));
        }
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        next = page.metadata?.continue || undefined;
      } while (next !== undefined);
      return { items, resourceVersion };
    },
    watch(resourceVersion, onEvent, signal) {
      const timeoutSeconds = options.watchTimeoutSeconds ?? Math.floor(300 * (1 + Math.random()));
      return client.watch<T>(
        {
          ...target,
          resourceVersion: resourceVersion || undefined,
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          timeoutSeconds,
          signal,
        },
        onEvent,
      );
    },
  };
}

/** An informer over the client: see informerFromSource. */
export function makeRestInformer<T extends KubeObject>(
  client: KubeClient,
  target: Target,
  options: RestInformerOptions<T>,
): Informer<T> {
  const transform = options.transform ?? dropManagedFields;
  return informerFromSource(listWatchSource<T>(client, target, { ...options, transform }), {
    ...options,
    transform,
  });
}

/**
 * A cache kept current by list, then watch from the list's resourceVersion. A watch the server ends is
 * resumed from the last version seen; a 410 (that version is gone) means a new list, and handlers get the
 * difference as deletes, updates and adds; any other failure is retried with exponential back-off.
 */
export function informerFromSource<T extends KubeObject>(
  source: ListWatchSource<T>,
  options: Pick<RestInformerOptions<T>, 'log' | 'what' | 'transform'>,
): Informer<T> {
  const log = options.log.child({ informer: options.what });
  const transform = options.transform ?? dropManagedFields;
  const store = new ObjectStore<T>();
  const handlers: Array<(obj: T, verb: 'add' | 'update' | 'delete', previous?: T) => void> = [];
  let synced = false;
  let resourceVersion = '';
  let listedAt = 0;
  let abort: AbortController | undefined;
  let loop: Promise<void> | undefined;
  let firstSync: Promise<void> | undefined;
  let resolveFirstSync = () => {};

  const emit = (obj: T, verb: 'add' | 'update' | 'delete', previous?: T) => {
    for (const cb of handlers) {
      try {
        cb(obj, verb, previous);
      } catch (err) {
        log.error({ err, verb, name: obj.metadata?.name }, 'informer handler failed');
      }
    }
  };

  const relist = async (signal: AbortSignal) => {
    // Raced with the abort, so stop() never waits on a list that does not listen to it.
    const { items, resourceVersion: listed } = await untilAborted(source.list(signal), signal);
    const fresh = items.map(transform);
    const diff = synced ? diffRelist(store.values(), fresh) : { added: fresh, updated: [], deleted: [] };
    store.clear();
    for (const o of fresh) store.set(o);
    resourceVersion = listed;
    listedAt = Date.now();
    if (!synced) log.debug({ objects: fresh.length }, 'synced');
    else log.info({ ...countsOf(diff), objects: fresh.length }, 'relisted');
    synced = true;
    resolveFirstSync();
    for (const o of diff.deleted) emit(o, 'delete');
    for (const u of diff.updated) emit(u.object, 'update', u.previous);
    for (const o of diff.added) emit(o, 'add');
  };

  const apply = (event: WatchedEvent<T>) => {
    const rv = event.object.metadata?.resourceVersion;
    if (rv) resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    const obj = transform(event.object);
    if (event.type === 'DELETED') {
      if (store.delete(obj) !== undefined) emit(obj, 'delete');
      return;
    }
    const previous = store.set(obj);
    if (previous === undefined) emit(obj, 'add');
    else if (previous.metadata?.resourceVersion !== rv) emit(obj, 'update', previous);
  };

  const run = async (signal: AbortSignal) => {
    let retryMs = MIN_RETRY_MS;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await relist(signal);
          needList = false;
          retryMs = MIN_RETRY_MS;
        }
        const started = Date.now();
        let events = 0;
        await source.watch(
          resourceVersion,
          (event) => {
            events++;
            apply(event);
          },
          signal,
        );
        if (events > 0 || Date.now() - started >= MIN_WATCH_MS) {
          retryMs = MIN_RETRY_MS;
          continue;
        }
        log.debug({ retryMs }, 'watch ended at once; waiting');
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          needList = true;
          log.info({ resourceVersion }, 'resource version expired; listing again');
          // Straight to the list, unless the last one was a moment ago: then something is wrong, so back off.
          if (Date.now() - listedAt >= MIN_WATCH_MS) continue;
        } else {
          log.warn({ ...describeError(err), retryMs }, 'list/watch failed; retrying');
        }
      }
      await sleep(retryMs, signal);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }
  };

  return {
    cache: store,
    synced: () => synced,
    onChange(cb) {
      handlers.push(cb);
    },
    start() {
      if (firstSync !== undefined && abort !== undefined && !abort.signal.aborted) return firstSync;
      firstSync = new Promise<void>((resolve) => {
        resolveFirstSync = resolve;
        if (synced) resolve();
      });
      const controller = new AbortController();
      abort = controller;
      loop = run(controller.signal);
      return firstSync;
    },
    async stop() {
      abort?.abort();
      resolveFirstSync();
      await loop;
    },
  };
}

function countsOf(diff: { added: unknown[]; updated: unknown[]; deleted: unknown[] }) {
  return { added: diff.added.length, updated: diff.updated.length, deleted: diff.deleted.length };
}

/** `work`, or a rejection as soon as `signal` aborts, whichever comes first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
