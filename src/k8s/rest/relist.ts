import type { KubeObject } from './types.js';

/** An object the list shows at another resourceVersion than the cache had it. */
export interface Updated<T> {
  readonly object: T;
  readonly previous: T;
}

export interface RelistDiff<T> {
  readonly added: T[];
  /** The fresh objects whose resourceVersion changed, each with the state the cache had. */
  readonly updated: Updated<T>[];
  /** The last known state of objects no longer listed. */
  readonly deleted: T[];
}

const keyOf = (o: KubeObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * What happened between the cache and a fresh list, for handlers that missed the watch events (after a 410).
 * An object whose uid changed was deleted and created again under its name: a delete and an add, not an update.
 */
export function diffRelist<T extends KubeObject>(known: Iterable<T>, fresh: readonly T[]): RelistDiff<T> {
  const before = new Map<string, T>();
  for (const o of known) before.set(keyOf(o), o);
  const added: T[] = [];
  const updated: Updated<T>[] = [];
  const deleted: T[] = [];
  for (const o of fresh) {
    const key = keyOf(o);
    const old = before.get(key);
    before.delete(key);
    if (old === undefined) added.push(o);
    else if (old.metadata?.uid !== o.metadata?.uid) {
      deleted.push(old);
      added.push(o);
    } else if (
      old.metadata?.resourceVersion === undefined ||
      old.metadata.resourceVersion !== o.metadata?.resourceVersion
    ) {
      updated.push({ object: o, previous: old });
    }
  }
  deleted.push(...before.values());
  return { added, updated, deleted };
}
