import type { KubeObject, ObjectCache } from './types.js';

/** Objects by namespace, then name, so a per-namespace list costs that namespace only. Cluster-scoped: ''. */
export class ObjectStore<T extends KubeObject> implements ObjectCache<T> {
  readonly #byNamespace = new Map<string, Map<string, T>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#byNamespace.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string): ReadonlyArray<T> {
    if (namespace !== undefined) return [...(this.#byNamespace.get(namespace)?.values() ?? [])];
    const all: T[] = [];
    for (const objects of this.#byNamespace.values()) for (const o of objects.values()) all.push(o);
    return all;
  }

  *values(): IterableIterator<T> {
    for (const objects of this.#byNamespace.values()) yield* objects.values();
  }

  /** Stores `obj` and returns what it replaced. */
  set(obj: T): T | undefined {
    const namespace = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    let objects = this.#byNamespace.get(namespace);
    if (objects === undefined) {
      objects = new Map();
      this.#byNamespace.set(namespace, objects);
    }
    const previous = objects.get(name);
    objects.set(name, obj);
    if (previous === undefined) this.#size++;
    return previous;
  }

  /** Removes the object with `obj`'s namespace and name and returns it. */
  delete(obj: KubeObject): T | undefined {
    const namespace = obj.metadata?.namespace ?? '';
    const objects = this.#byNamespace.get(namespace);
    const name = obj.metadata?.name ?? '';
    const previous = objects?.get(name);
    if (objects === undefined || previous === undefined) return undefined;
    objects.delete(name);
    // Empty namespaces go, so a node that saw many short-lived namespaces does not keep a map for each.
    if (objects.size === 0) this.#byNamespace.delete(namespace);
    this.#size--;
    return previous;
  }

  clear(): void {
    this.#byNamespace.clear();
    this.#size = 0;
  }
}
