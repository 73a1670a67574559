import type { Arch } from '../profiles/syscalls/index.js';

export interface RecordingKey {
  readonly recording: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** Absent when the runtime did not say; then only the name tells pods apart */
  readonly podUid?: string;
}

/** Which recorded containers a request means: pod, container and pod uid are optional narrowing. */
export interface RecordingSelector {
  readonly recording: string;
  readonly namespace: string;
  readonly pod?: string;
  readonly container?: string;
  readonly podUid?: string;
}

export interface RecordedContainer {
  readonly key: RecordingKey;
  /** Syscall names per architecture, sorted */
  readonly syscalls: ReadonlyMap<Arch, readonly string[]>;
  readonly records: number;
}

interface Entry {
  key: RecordingKey;
  byArch: Map<Arch, Set<string>>;
  records: number;
}

/** Syscalls seen per recorded container, kept until the recording controller reads and resets them. */
export class RecordingStore {
  readonly #entries = new Map<string, Entry>();

  constructor(readonly maxContainers = 4096) {}

  /** false when the store is full and the container is new: the caller counts the loss. */
  add(key: RecordingKey, arch: Arch, syscall: string): boolean {
    const id = keyString(key);
    let e = this.#entries.get(id);
    if (e === undefined) {
      if (this.#entries.size >= this.maxContainers) return false;
      e = { key, byArch: new Map(), records: 0 };
      this.#entries.set(id, e);
    }
    let names = e.byArch.get(arch);
    if (names === undefined) {
      names = new Set();
      e.byArch.set(arch, names);
    }
    names.add(syscall);
    e.records++;
    return true;
  }

  select(selector: RecordingSelector): RecordedContainer[] {
    const out: RecordedContainer[] = [];
    for (const e of this.#entries.values()) {
      if (!selects(selector, e.key)) continue;
      out.push({
        key: e.key,
        syscalls: new Map([...e.byArch].map(([arch, names]) => [arch, [...names].sort()] as const)),
        records: e.records,
      });
    }
    return out.sort((a, b) => compare(keyString(a.key), keyString(b.key)));
  }

  /** Forgets the selected containers; returns how many there were. */
  reset(selector: RecordingSelector): number {
    let n = 0;
    for (const [id, e] of this.#entries) {
      if (!selects(selector, e.key)) continue;
      this.#entries.delete(id);
      n++;
    }
    return n;
  }

  get size(): number {
    return this.#entries.size;
  }
}

function selects(s: RecordingSelector, k: RecordingKey): boolean {
  return (
    s.recording === k.recording &&
    s.namespace === k.namespace &&
    (s.pod === undefined || s.pod === '' || s.pod === k.pod) &&
    (s.container === undefined || s.container === '' || s.container === k.container) &&
    // a pod made again under the same name (StatefulSet) must not add to, or lose, the earlier one's record
    (s.podUid === undefined || s.podUid === '' || k.podUid === undefined || s.podUid === k.podUid)
  );
}

// NUL cannot appear in Kubernetes names, so the joined key is unambiguous.
function keyString(k: RecordingKey): string {
  return `${k.namespace}\0${k.pod}\0${k.container}\0${k.recording}\0${k.podUid ?? ''}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
