import type {
  NativeEntry,
  NativeInfo,
  NativeOpenOptions,
  NativeOpenResult,
  NativeRecorder,
} from '../../../src/recorder/native.js';

/** A stand-in for the addon's Recorder: a Map instead of a BPF map, with every call logged. */
export class FakeNativeRecorder implements NativeRecorder {
  readonly calls: string[] = [];
  readonly entries = new Map<number, NativeEntry>();
  readonly filter = new Set<number>();
  opened: NativeOpenOptions | undefined;
  isAttached = false;
  failNext: { method: string; error: Error } | undefined;

  #maybeFail(method: string) {
    this.calls.push(method);
    if (this.failNext?.method === method) {
      const { error } = this.failNext;
      this.failNext = undefined;
      throw error;
    }
  }

  /** What the next open reports, as if a pinned link and maps were found (pinning tests). */
  openResult: NativeOpenResult = { adopted: false, reusedMaps: [], replacedMaps: [], droppedLink: false };

  open(opts: NativeOpenOptions): NativeOpenResult {
    this.#maybeFail('open');
    this.opened = opts;
    if (this.openResult.adopted) this.isAttached = true;
    return this.openResult;
  }
  attach() {
    this.#maybeFail('attach');
    this.isAttached = true;
  }
  detach() {
    this.calls.push('detach');
    this.isAttached = false;
  }
  drain(mntns?: number): NativeEntry[] {
    this.#maybeFail('drain');
    const out = [...this.entries.values()].filter((e) => mntns === undefined || e.mntns === mntns);
    for (const e of out) this.entries.delete(e.mntns);
    return out;
  }
  include(mntns: number) {
    this.#maybeFail('include');
    this.filter.add(mntns);
  }
  exclude(mntns: number) {
    this.#maybeFail('exclude');
    this.filter.add(mntns);
  }
  forget(mntns: number) {
    this.calls.push('forget');
    this.filter.delete(mntns);
  }
  stats() {
    return { mapFull: 0, resets: 0 };
  }
  info(): NativeInfo {
    return { open: this.opened !== undefined, attached: this.isAttached };
  }
  close() {
    this.calls.push('close');
    this.isAttached = false;
  }

  /** What the BPF program would store after `mntns` made `syscalls`. */
  record(mntns: number, nsId: number, syscalls: number[], compat: number[] = []) {
    const native = new Uint8Array(128);
    const compatBits = new Uint8Array(128);
    for (const nr of syscalls) native[nr >> 3]! |= 1 << (nr & 7);
    for (const nr of compat) compatBits[nr >> 3]! |= 1 << (nr & 7);
    this.entries.set(mntns, { mntns, nsId, flags: 0, native, compat: compatBits });
  }
}

/** A native error as the addon throws it. */
export function nativeError(code: string, errno: number, syscall: string): Error {
  return Object.assign(new Error(`${syscall} ${code}: something`), { code, errno: -errno, syscall });
}
