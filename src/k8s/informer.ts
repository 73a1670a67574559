import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  type ObjectCache,
  Watch,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError } from './client.js';

export interface Informer<T extends KubernetesObject> {
  readonly cache: ObjectCache<T>;
  /** True once the first list is in; stays true across reconnects (the cache is then briefly stale, not empty). */
  synced(): boolean;
  /** Called after the cache changed: add, update or delete of `obj`. */
  onChange(cb: (obj: T, verb: 'add' | 'update' | 'delete') => void): void;
  /** Resolves after the first list; retries with back-off until then and after every failure. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface InformerOptions {
  readonly log: Logger;
  readonly what: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

/**
 * A list-watch cache that keeps itself alive: the client's ListWatch stops on the first error (apiserver
 * restart, expired token), so this restarts it with exponential back-off.
 */
export function makeInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  list: () => Promise<KubernetesListObject<T>>,
  options: InformerOptions,
): Informer<T> {
  const lw = new ListWatch<T>(path, new Watch(kc), list, false, options.labelSelector, options.fieldSelector);
  let synced = false;
  let stopped = false;
  let retryMs = MIN_RETRY_MS;
  let retry: NodeJS.Timeout | undefined;
  let firstSync: { resolve: () => void } | undefined;
  const log = options.log.child({ informer: options.what });

  // ListWatch reports a failed list through its error callbacks and still resolves start(), hence the flag.
  let failed = false;
  const run = async () => {
    failed = false;
    try {
      await lw.start();
      if (failed) return;
      retryMs = MIN_RETRY_MS;
      if (!synced) log.debug('synced');
      synced = true;
      firstSync?.resolve();
    } catch (err) {
      onError(err);
    }
  };
  const onError = (err: unknown) => {
    failed = true;
    if (stopped) return;
    log.warn({ ...describeError(err), retryMs }, 'list/watch failed; retrying');
    clearTimeout(retry);
    retry = setTimeout(() => void run(), retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  };
  lw.on('error', onError);

  return {
    cache: lw,
    synced: () => synced,
    onChange(cb) {
      lw.on('add', (o) => cb(o, 'add'));
      lw.on('update', (o) => cb(o, 'update'));
      lw.on('delete', (o) => cb(o, 'delete'));
    },
    start() {
      stopped = false;
      return new Promise<void>((resolve) => {
        firstSync = { resolve };
        void run();
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      firstSync?.resolve();
      await lw.stop();
    },
  };
}
