import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import { emptySyscalls, foldDrain, groupByMntns, type MntnsSyscalls } from './aggregate.js';
import { chooseProgram, explainNativeError, type HostFacts, type NativeStage } from './diagnose.js';
import { type BpfProgram, loadNative, type NativeInfo, type NativeRecorder } from './native.js';
import type { MntnsPin } from './proc.js';

/**
 * listed: record only the namespaces given to track() (the local CLI: other containers cost one map lookup).
 * all: record every namespace but the host's and our own, and keep what untracked ones did until they are tracked
 * (the node recorder: a container's first syscalls happen before anyone can tell us which namespace it has).
 */
export type RecorderMode = 'listed' | 'all';

export interface RecorderOptions {
  readonly log: Logger;
  readonly mode: RecorderMode;
  readonly facts: HostFacts;
  readonly hostMntns: number;
  /** Our own namespace: excluded in `all` mode when it is not the host's (the recorder in its own container). */
  readonly selfMntns?: number;
  /** Defaults to a new instance of the addon's class; unit tests pass a fake. */
  readonly native?: NativeRecorder;
  /** Defaults to what the machine supports (diagnose.ts); the benchmark asks for `floor`. */
  readonly program?: BpfProgram;
  /** Bounds the kernel maps and the untracked entries kept in `all` mode. */
  readonly maxMntns?: number;
  /**
   * bpffs directory for the maps and the link (the node recorder only, see pin-dir.ts): the program keeps
   * recording while this process is down, and the next one adopts it. Unset: nothing outlives the process.
   */
  readonly pinDir?: string;
}

export const DEFAULT_MAX_MNTNS = 8192;

interface Tracked {
  syscalls: MntnsSyscalls;
  readonly pin: MntnsPin | undefined;
}

/**
 * The eBPF recorder with its mount-namespace bookkeeping. The program is attached only while at least one
 * namespace is tracked, so a node that records nothing pays nothing.
 */
export class Recorder {
  readonly #opts: RecorderOptions;
  readonly #log: Logger;
  readonly #native: NativeRecorder;
  readonly #tracked = new Map<number, Tracked>();
  readonly #untracked = new Map<number, MntnsSyscalls>();
  #armed = 0;
  /** Holds an adopted link attached until the owner has re-tracked what it recorded (endResume). */
  #resuming = false;
  /** The maps came from an earlier process: its exclusions may still be in the filter map. */
  #inherited = false;
  #opened = false;
  #closed = false;

  constructor(opts: RecorderOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ component: 'recorder' });
    this.#native = opts.native ?? new (loadNative().Recorder)();
  }

  get attached(): boolean {
    return this.#native.info().attached;
  }

  get tracked(): readonly number[] {
    return [...this.#tracked.keys()];
  }

  /** Namespaces seen in `all` mode that nobody has tracked yet, oldest first (the node recorder attributes them). */
  get untracked(): readonly number[] {
    return [...this.#untracked.keys()];
  }

  /** Loads the program (not attached yet); throws an AppError naming what is missing. Idempotent. */
  open(): void {
    this.#assertNotClosed();
    if (this.#opened) return;
    const program = this.#opts.program ?? chooseProgram(this.#opts.facts);
    const pinDir = this.#opts.pinDir;
    const found = this.#call('load', () =>
      this.#native.open({
        listedOnly: this.#opts.mode === 'listed',
        hostMntns: this.#opts.hostMntns,
        maxMntns: this.#opts.maxMntns ?? DEFAULT_MAX_MNTNS,
        program,
        ...(this.#opts.facts.btfPath !== undefined ? { btfPath: this.#opts.facts.btfPath } : {}),
        ...(pinDir !== undefined ? { pinDir } : {}),
      }),
    );
    this.#opened = true;
    if (found.replacedMaps.length > 0)
      this.#log.warn(
        { pinDir, maps: found.replacedMaps },
        'pinned eBPF maps do not match this version: replaced, and what they recorded while the recorder was down is lost',
      );
    if (found.droppedLink)
      this.#log.warn(
        { pinDir },
        'pinned eBPF links run another version of the program or fed replaced maps: removed, new ones are attached when needed',
      );
    this.#inherited = found.reusedMaps.length > 0;
    // At once: an exited container's entry is keyed by its namespace's inode number, which the next namespace
    // made on the host (the self-test's child, first of all) is likely to get, replacing the entry.
    if (this.#inherited) {
      this.drain();
      this.#log.debug(
        { namespaces: [...this.#untracked].map(([mntns, s]) => ({ mntns, nsId: s.nsId })).slice(0, 100) },
        'drained the inherited maps',
      );
    }
    if (found.adopted) {
      this.#resuming = true;
      this.#armed++;
      this.#log.info(
        { pinDir, maps: found.reusedMaps },
        'adopted the pinned eBPF link: syscalls made while the recorder was down are in its maps',
      );
    }
    const self = this.#opts.selfMntns;
    if (this.#opts.mode === 'all' && self !== undefined && self !== this.#opts.hostMntns) {
      this.#call('open', () => this.#native.exclude(self));
    }
    this.#log.debug({ program, mode: this.#opts.mode, hostMntns: this.#opts.hostMntns }, 'recorder loaded');
  }

  /** True from an open that adopted a pinned link until endResume(). */
  get resuming(): boolean {
    return this.#resuming;
  }

  /**
   * After a restart: the owner has re-tracked and re-armed whatever the previous process recorded, so the adopted
   * link no longer needs holding; it stays attached only if something still wants it. Idempotent.
   */
  endResume(): void {
    if (!this.#resuming || this.#closed) return;
    this.#resuming = false;
    this.#armed--;
    this.#detachIfIdle();
  }

  /**
   * What an untracked namespace did (`all` mode), handed over and forgotten here: after a restart, a container
   * that exited while the recorder was down is no longer there to track, but its syscalls are in the pinned map.
   */
  takeUntracked(mntns: number): MntnsSyscalls | undefined {
    this.drain();
    const early = this.#untracked.get(mntns);
    this.#untracked.delete(mntns);
    return early;
  }

  /**
   * Starts recording a mount namespace, attaching the program if nothing was recorded before. `pin` keeps the
   * namespace (and so its inode number) alive until untrack(); the recorder releases it. `seed` is what an
   * earlier recorder process already drained for it (restart).
   */
  track(mntns: number, pin?: MntnsPin, seed?: MntnsSyscalls): void {
    this.#assertNotClosed();
    this.open();
    if (mntns === this.#opts.hostMntns) {
      pin?.release();
      throw new AppError(
        'ERR_CONFIG',
        `mount namespace ${mntns} is the host's: the recorder never records it`,
      );
    }
    if (this.#tracked.has(mntns)) {
      pin?.release();
      return;
    }
    if (this.#opts.mode === 'listed') {
      this.#call('open', () => this.#native.include(mntns));
    } else {
      // an earlier process's own namespace, excluded in the pinned filter map, may have been freed and reused
      if (this.#inherited) this.#call('open', () => this.#native.forget(mntns));
      // what it did before anyone asked is part of its profile (container start-up)
      this.drain();
    }
    const early = this.#untracked.get(mntns);
    this.#untracked.delete(mntns);
    const syscalls = early ?? emptySyscalls(seed?.nsId);
    if (seed !== undefined && (syscalls.nsId === 0 || seed.nsId === 0 || seed.nsId === syscalls.nsId)) {
      for (const nr of seed.native) syscalls.native.add(nr);
      for (const nr of seed.compat) syscalls.compat.add(nr);
      syscalls.outOfRange ||= seed.outOfRange;
      if (syscalls.nsId === 0) syscalls.nsId = seed.nsId;
    }
    this.#tracked.set(mntns, { syscalls, pin });
    try {
      this.#call('attach', () => this.#native.attach());
    } catch (e) {
      this.#forget(mntns);
      throw e;
    }
    this.#log.debug({ mntns }, 'recording mount namespace');
  }

  /**
   * Keeps the program attached before any namespace is tracked: the node recorder arms when a recording becomes
   * active, so containers that start before their namespace is known are recorded from their first syscall.
   * Returns the matching disarm, safe to call twice.
   */
  arm(): () => void {
    this.#assertNotClosed();
    this.open();
    this.#call('attach', () => this.#native.attach());
    this.#armed++;
    let armed = true;
    return () => {
      if (!armed || this.#closed) return;
      armed = false;
      this.#armed--;
      this.#detachIfIdle();
    };
  }

  /** Moves what the kernel holds into the bookkeeping; cheap enough to call on a timer. */
  drain(): void {
    this.#assertNotClosed();
    if (!this.#opened) return;
    const entries = this.#call('drain', () => this.#native.drain());
    for (const [mntns, group] of groupByMntns(entries)) {
      const tracked = this.#tracked.get(mntns);
      if (tracked !== undefined) {
        tracked.syscalls = foldDrain(tracked.syscalls, group);
      } else if (this.#opts.mode === 'all') {
        this.#untracked.set(mntns, foldDrain(this.#untracked.get(mntns), group));
        this.#boundUntracked();
      }
    }
  }

  /** What a tracked namespace has done so far (call drain() first for the latest). */
  peek(mntns: number): MntnsSyscalls | undefined {
    return this.#tracked.get(mntns)?.syscalls;
  }

  /**
   * Stops recording a namespace and returns everything it did. Call it once the workload has exited: the hook runs
   * inside each syscall, so by then every syscall it made is in the map. Detaches when nothing is left to record.
   */
  untrack(mntns: number): MntnsSyscalls {
    this.#assertNotClosed();
    const tracked = this.#tracked.get(mntns);
    if (tracked === undefined)
      throw new AppError('ERR_CONFIG', `mount namespace ${mntns} is not being recorded`);
    // stop listing it first, so no entry can appear after the final drain
    if (this.#opts.mode === 'listed') this.#call('open', () => this.#native.forget(mntns));
    this.drain();
    const result = tracked.syscalls;
    this.#forget(mntns);
    this.#log.debug({ mntns, syscalls: result.native.size }, 'recorded mount namespace');
    return result;
  }

  stats(): { mapFull: number; resets: number } {
    this.#assertNotClosed();
    return this.#opened ? this.#native.stats() : { mapFull: 0, resets: 0 };
  }

  info(): NativeInfo {
    return this.#native.info();
  }

  /** Detaches, unloads and releases every pinned namespace. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { pin } of this.#tracked.values()) pin?.release();
    this.#tracked.clear();
    this.#untracked.clear();
    this.#native.close();
  }

  #forget(mntns: number): void {
    const tracked = this.#tracked.get(mntns);
    this.#tracked.delete(mntns);
    tracked?.pin?.release();
    this.#detachIfIdle();
  }

  #detachIfIdle(): void {
    if (this.#tracked.size === 0 && this.#armed === 0) this.#native.detach();
  }

  // Map insertion order is age: drop the oldest when more namespaces than the kernel map holds are waiting.
  #boundUntracked(): void {
    const max = this.#opts.maxMntns ?? DEFAULT_MAX_MNTNS;
    for (const key of this.#untracked.keys()) {
      if (this.#untracked.size <= max) break;
      this.#untracked.delete(key);
    }
  }

  #call<T>(stage: NativeStage, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw explainNativeError(e, stage, this.#opts.facts);
    }
  }

  #assertNotClosed(): void {
    if (this.#closed) throw new AppError('ERR_RECORDER_CLOSED', 'the recorder is closed');
  }
}
