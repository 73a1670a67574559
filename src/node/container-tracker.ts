import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import type { Arch } from '../profiles/syscalls/index.js';
import { emptySyscalls, type MntnsSyscalls } from '../recorder/aggregate.js';
import { nameSyscalls, recordingWarnings } from '../recorder/names.js';
import type { MntnsPin } from '../recorder/proc.js';
import type { Attribution } from './attribute.js';
import type { ResolvedContainer } from './resolve.js';
import { EMPTY_SNAPSHOT, type TrackerSnapshot } from './tracker-state.js';

/** The part of src/recorder's Recorder the tracker drives (`all` mode). */
export interface RecorderLike {
  readonly attached: boolean;
  readonly untracked: readonly number[];
  track(mntns: number, pin?: MntnsPin, seed?: MntnsSyscalls): void;
  untrack(mntns: number): MntnsSyscalls;
  drain(): void;
  peek(mntns: number): MntnsSyscalls | undefined;
  arm(): () => void;
  /** What an untracked namespace did, handed over (a container that exited while the recorder was down). */
  takeUntracked(mntns: number): MntnsSyscalls | undefined;
}

export interface TrackerDeps {
  readonly recorder: RecorderLike;
  readonly resolve: (containerId: string) => Promise<ResolvedContainer>;
  /** Pins a pid's mount namespace; the pin's mntns tells whether the pid still is where we think. */
  readonly pin: (pid: number) => MntnsPin;
  readonly attribute: (mntns: ReadonlySet<number>) => Promise<Attribution[]>;
  readonly arch: Arch;
  readonly log: Logger;
  readonly save?: (snapshot: TrackerSnapshot) => Promise<void>;
  /** The pids of a container cgroup directory, undefined once it is gone (containers seen by CgroupWatcher). */
  readonly cgroupProcs?: (dir: string) => Promise<readonly number[] | undefined>;
  /** Mount namespaces that are never a container's own: the host's and the recorder's. */
  readonly notContainer?: ReadonlySet<number>;
  /** How often and how long to look at a new container cgroup for a process in the container's namespace. */
  readonly catchPolicy?: { readonly intervalMs: number; readonly timeoutMs: number };
}

export interface TrackResult {
  readonly mntns: number;
  readonly method: string;
  readonly already: boolean;
}

export interface CollectResult {
  readonly syscalls: readonly string[];
  readonly arch: Arch;
  readonly containerIds: readonly string[];
  readonly warnings: readonly string[];
}

interface Entry {
  readonly id: string;
  key: string | undefined;
  readonly mntns: number;
  readonly method: string;
  /** Tracked in the kernel map now; else `saved` holds all there is (it exited while the recorder was down). */
  live: boolean;
  saved: MntnsSyscalls;
}

const MAX_IGNORED = 10_000;

function union(into: MntnsSyscalls, from: MntnsSyscalls): MntnsSyscalls {
  for (const nr of from.native) into.native.add(nr);
  for (const nr of from.compat) into.compat.add(nr);
  into.outOfRange ||= from.outOfRange;
  return into;
}

/**
 * Containers on this node being recorded, keyed by CRI id, and what they did. While armed, every container
 * whose cgroup appears is tied to its mount namespace while it starts (containerCgroup), and every other new
 * namespace the program sees is attributed after the next drain, so a container that runs for a moment is
 * still caught; Track then only names the key. State is saved after every change that would hurt to lose.
 */
export class ContainerTracker {
  readonly #deps: TrackerDeps;
  readonly #entries = new Map<string, Entry>();
  readonly #collected = new Map<string, CollectResult>();
  readonly #arms = new Map<string, () => void>();
  readonly #ignored = new Set<number>();
  readonly #catching = new Set<string>();
  #lastSaved = '';
  #ticking: Promise<void> | undefined;

  constructor(deps: TrackerDeps) {
    this.#deps = deps;
  }

  health() {
    return {
      attached: this.#deps.recorder.attached,
      trackedContainers: this.#entries.size,
      armedOwners: this.#arms.size,
      collectedKeys: this.#collected.size,
    };
  }

  /**
   * Re-arms and re-tracks what an earlier process recorded; containers that exited meanwhile keep their data.
   * With pinned maps, what they did while no recorder ran is in the map: a live container's is picked up by
   * track(), an exited one's is claimed here (same namespace instance, told by nsId).
   */
  async restore(snapshot: TrackerSnapshot): Promise<void> {
    for (const owner of snapshot.arms) this.arm(owner);
    for (const c of snapshot.collected) this.#collected.set(c.key, { ...c, arch: this.#deps.arch });
    for (const c of snapshot.containers) {
      const seed: MntnsSyscalls = {
        nsId: c.nsId,
        native: new Set(c.native),
        compat: new Set(c.compat),
        outOfRange: c.outOfRange,
      };
      const entry: Entry = {
        id: c.id,
        key: c.key,
        mntns: c.mntns,
        method: 'restored',
        live: false,
        saved: seed,
      };
      try {
        const resolved = await this.#deps.resolve(c.id);
        if (resolved.mntns === c.mntns && this.#trackPinned(resolved.pid, c.mntns, emptySyscalls(c.nsId))) {
          entry.live = true;
        }
      } catch {}
      if (!entry.live) {
        const late = this.#deps.recorder.takeUntracked(c.mntns);
        if (late !== undefined && (late.nsId === 0 || c.nsId === 0 || late.nsId === c.nsId)) {
          union(entry.saved, late);
          if (entry.saved.nsId === 0) entry.saved.nsId = late.nsId;
        }
      }
      this.#entries.set(c.id, entry);
      this.#deps.log.info({ containerId: c.id, mntns: c.mntns, live: entry.live }, 'restored recording');
    }
    await this.#persist();
  }

  arm(owner: string): number {
    if (!this.#arms.has(owner)) this.#arms.set(owner, this.#deps.recorder.arm());
    return this.#arms.size;
  }

  async disarm(owner: string): Promise<number> {
    this.#arms.get(owner)?.();
    this.#arms.delete(owner);
    if (this.#arms.size === 0) {
      // containers seen starting that nobody asked for: nothing will collect them
      for (const e of [...this.#entries.values()]) {
        if (e.key !== undefined) continue;
        if (e.live) this.#deps.recorder.untrack(e.mntns);
        this.#entries.delete(e.id);
      }
      this.#ignored.clear();
    }
    await this.#persist();
    return this.#arms.size;
  }

  async track(containerId: string, key: string): Promise<TrackResult> {
    if (key === '') throw new AppError('ERR_CONFIG', 'track: empty key');
    const existing = this.#entries.get(containerId);
    if (existing !== undefined) {
      if (existing.key !== undefined && existing.key !== key) {
        throw new AppError(
          'ERR_CONFIG',
          `container ${containerId} is already recorded for ${existing.key}, not ${key}`,
        );
      }
      const first = existing.key === undefined;
      existing.key = key;
      if (first) await this.#persist();
      return { mntns: existing.mntns, method: existing.method, already: !first };
    }
    if (this.#collected.has(key)) return { mntns: 0, method: 'collected', already: true };
    const resolved = await this.#deps.resolve(containerId);
    if (!this.#trackPinned(resolved.pid, resolved.mntns, undefined)) {
      throw new AppError(
        'ERR_CGROUP_NOT_FOUND',
        `container ${containerId}: process ${resolved.pid} left mount namespace ${resolved.mntns} while being tracked`,
      );
    }
    this.#entries.set(containerId, {
      id: containerId,
      key,
      mntns: resolved.mntns,
      method: resolved.method,
      live: true,
      saved: emptySyscalls(),
    });
    this.#deps.log.info(
      { containerId, key, mntns: resolved.mntns, method: resolved.method },
      'tracking container',
    );
    await this.#persist();
    return { mntns: resolved.mntns, method: resolved.method, already: false };
  }

  /** Ends every container of `key` and returns the union of their syscalls; kept until release(). */
  async collect(key: string): Promise<CollectResult> {
    const done = this.#collected.get(key);
    if (done !== undefined) return done;
    const entries = [...this.#entries.values()].filter((e) => e.key === key);
    if (entries.length === 0) throw new AppError('ERR_NOT_RECORDED', `nothing recorded for ${key}`);
    const all = emptySyscalls();
    for (const e of entries) {
      union(all, e.saved);
      if (e.live) union(all, this.#deps.recorder.untrack(e.mntns));
      this.#entries.delete(e.id);
    }
    const named = nameSyscalls(this.#deps.arch, all);
    const result: CollectResult = {
      syscalls: named.names,
      arch: this.#deps.arch,
      containerIds: entries.map((e) => e.id),
      warnings: recordingWarnings(this.#deps.arch, named),
    };
    this.#collected.set(key, result);
    await this.#persist();
    this.#deps.log.info({ key, syscalls: result.syscalls.length }, 'collected recording');
    return result;
  }

  async release(key: string): Promise<void> {
    if (this.#collected.delete(key)) await this.#persist();
  }

  /**
   * A container's cgroup directory just appeared (CgroupWatcher). While armed, its processes are looked at
   * every few milliseconds until one is in a mount namespace of its own (runc's init moves there right after
   * joining the cgroup, and waits there for the start), and that namespace is tied to the container at once:
   * a container that is over before the next drain would leave no process for the /proc pass to find.
   */
  containerCgroup(containerId: string, dir: string): void {
    const procs = this.#deps.cgroupProcs;
    if (procs === undefined || this.#arms.size === 0) return;
    if (this.#entries.has(containerId) || this.#catching.has(containerId)) return;
    this.#catching.add(containerId);
    this.#catch(containerId, dir, procs)
      .catch((err: unknown) => this.#deps.log.debug({ err, containerId }, 'cannot catch container start'))
      .finally(() => this.#catching.delete(containerId));
  }

  async #catch(
    id: string,
    dir: string,
    procs: (dir: string) => Promise<readonly number[] | undefined>,
  ): Promise<void> {
    const { intervalMs, timeoutMs } = this.#deps.catchPolicy ?? { intervalMs: 5, timeoutMs: 10_000 };
    const skip = this.#deps.notContainer ?? new Set<number>();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.#arms.size > 0) {
      if (this.#entries.has(id)) return;
      const pids = await procs(dir);
      if (pids === undefined) return;
      for (const pid of pids) {
        let pin: MntnsPin;
        try {
          pin = this.#deps.pin(pid);
        } catch {
          continue;
        }
        // still runc's first stage, in the host namespace: the container's is made a moment later
        if (skip.has(pin.mntns) || this.#entries.has(id)) {
          pin.release();
          if (this.#entries.has(id)) return;
          continue;
        }
        this.#deps.recorder.track(pin.mntns, pin);
        this.#entries.set(id, {
          id,
          key: undefined,
          mntns: pin.mntns,
          method: 'watched',
          live: true,
          saved: emptySyscalls(),
        });
        this.#deps.log.debug({ containerId: id, mntns: pin.mntns, pid }, 'container caught starting');
        await this.#persist();
        return;
      }
      await delay(intervalMs);
    }
  }

  /** Drains the kernel map, attributes new namespaces, saves. Overlapping calls share one pass. */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    const { recorder } = this.#deps;
    if (!recorder.attached) return;
    recorder.drain();
    if (this.#arms.size > 0) {
      const known = new Set([...this.#entries.values()].map((e) => e.mntns));
      const fresh = new Set(recorder.untracked.filter((m) => !known.has(m) && !this.#ignored.has(m)));
      const found = await this.#deps.attribute(fresh);
      for (const a of found) {
        fresh.delete(a.mntns);
        if (this.#entries.has(a.containerId)) continue;
        if (!this.#trackPinned(a.pid, a.mntns, undefined)) continue;
        this.#entries.set(a.containerId, {
          id: a.containerId,
          key: undefined,
          mntns: a.mntns,
          method: 'attributed',
          live: true,
          saved: emptySyscalls(),
        });
        this.#deps.log.debug({ containerId: a.containerId, mntns: a.mntns }, 'container started');
      }
      if (this.#ignored.size > MAX_IGNORED) this.#ignored.clear();
      for (const m of fresh) this.#ignored.add(m);
    }
    await this.#persist();
  }

  #trackPinned(pid: number, mntns: number, seed: MntnsSyscalls | undefined): boolean {
    let pin: MntnsPin;
    try {
      pin = this.#deps.pin(pid);
    } catch {
      return false;
    }
    if (pin.mntns !== mntns) {
      pin.release();
      return false;
    }
    this.#deps.recorder.track(mntns, pin, seed);
    return true;
  }

  snapshot(): TrackerSnapshot {
    const containers = [...this.#entries.values()].map((e) => {
      const s = e.live ? union(emptySyscalls(), e.saved) : e.saved;
      if (e.live) union(s, this.#deps.recorder.peek(e.mntns) ?? emptySyscalls());
      const nsId = e.live ? (this.#deps.recorder.peek(e.mntns)?.nsId ?? s.nsId) : s.nsId;
      return {
        id: e.id,
        ...(e.key !== undefined ? { key: e.key } : {}),
        mntns: e.mntns,
        nsId,
        native: [...s.native].sort((a, b) => a - b),
        compat: [...s.compat].sort((a, b) => a - b),
        outOfRange: s.outOfRange,
      };
    });
    return {
      ...EMPTY_SNAPSHOT,
      arms: [...this.#arms.keys()],
      containers,
      collected: [...this.#collected.entries()].map(([key, r]) => ({
        key,
        syscalls: r.syscalls,
        containerIds: r.containerIds,
        warnings: r.warnings,
      })),
    };
  }

  async #persist(): Promise<void> {
    if (this.#deps.save === undefined) return;
    const snap = this.snapshot();
    const text = JSON.stringify(snap);
    if (text === this.#lastSaved) return;
    await this.#deps.save(snap);
    this.#lastSaved = text;
  }
}
