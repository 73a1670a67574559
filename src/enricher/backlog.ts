export type BacklogPush = 'queued' | 'first' | 'dropped';

/**
 * Per-key queues of items waiting for their key to resolve, bounded both per key and in keys, so a flood of
 * lines for containers that never resolve cannot grow memory. Order within a key is kept.
 */
export class Backlog<K, T> {
  readonly #queues = new Map<K, T[]>();

  constructor(
    readonly maxKeys: number,
    readonly maxPerKey: number,
  ) {}

  /** `first` when this item opened a new queue: the caller starts resolving the key. */
  push(key: K, item: T): BacklogPush {
    const q = this.#queues.get(key);
    if (q !== undefined) {
      if (q.length >= this.maxPerKey) return 'dropped';
      q.push(item);
      return 'queued';
    }
    if (this.#queues.size >= this.maxKeys) return 'dropped';
    this.#queues.set(key, [item]);
    return 'first';
  }

  has(key: K): boolean {
    return this.#queues.has(key);
  }

  /** Removes and returns the key's queue. */
  take(key: K): T[] {
    const q = this.#queues.get(key) ?? [];
    this.#queues.delete(key);
    return q;
  }

  get keys(): number {
    return this.#queues.size;
  }
}
