import type { Logger } from 'pino';
import { type ParsedLine, parseAuditLine, type SeccompRecord } from './audit-line.js';
import { Backlog } from './backlog.js';
import { type EnricherFilter, filterLevel } from './filters.js';
import type { SourceKind } from './line-source.js';
import type { EnricherMetrics, LineResult } from './metrics.js';
import type { RecordingStore } from './recording-store.js';
import { type ContainerInfo, type ContainerResolver, recordingOf } from './resolver.js';
import { TtlCache } from './ttl-cache.js';

export interface RetryPolicy {
  readonly firstMs: number;
  readonly factor: number;
  readonly attempts: number;
}

export interface EnricherOptions {
  readonly nodeName: string;
  readonly source: SourceKind;
  readonly resolver: ContainerResolver;
  readonly store: RecordingStore;
  readonly filters: readonly EnricherFilter[];
  readonly log: Logger;
  readonly metrics: EnricherMetrics;
  readonly now?: () => number;
  /** A pid keeps its container for life; the TTL bounds the damage of pid reuse */
  readonly pidTtlMs?: number;
  readonly containerTtlMs?: number;
  /** How long to keep asking the runtime about a container it does not know yet */
  readonly retry?: RetryPolicy;
  readonly backlog?: { readonly maxContainers: number; readonly maxLinesPerContainer: number };
}

/** The fields of one output line, in the order they are logged. */
export type AuditFields = {
  readonly node: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly executable: string;
  readonly pid: number;
  readonly syscallID: number;
  readonly syscallName: string | undefined;
  readonly timestamp: string;
  readonly type: 'seccomp';
};

const NOT_IN_CONTAINER = '';

/**
 * Turns audit lines into attributed records: each seccomp record is tied to its container and pod, logged,
 * counted, and (for containers being recorded) added to the recording store. Lines of a container the
 * runtime does not know yet wait in a bounded backlog and are replayed in order once it does.
 */
export class Enricher {
  readonly #o: EnricherOptions;
  readonly #pids: TtlCache<number, string>;
  readonly #containers: TtlCache<string, ContainerInfo>;
  readonly #backlog: Backlog<string, SeccompRecord>;
  readonly #retry: RetryPolicy;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #pending = new Set<Promise<void>>();
  #stopped = false;

  constructor(options: EnricherOptions) {
    this.#o = options;
    const now = options.now ?? Date.now;
    this.#pids = new TtlCache(16_384, options.pidTtlMs ?? 10 * 60_000, now);
    this.#containers = new TtlCache(4_096, options.containerTtlMs ?? 60 * 60_000, now);
    this.#backlog = new Backlog(
      options.backlog?.maxContainers ?? 64,
      options.backlog?.maxLinesPerContainer ?? 1_024,
    );
    this.#retry = options.retry ?? { firstMs: 250, factor: 1.5, attempts: 10 };
  }

  /** Handles lines in order; resolves when each has been dispatched, backlogged or dropped. */
  async handleLines(lines: readonly string[]): Promise<void> {
    const counts: Record<LineResult, number> = { seccomp: 0, ignored: 0, malformed: 0 };
    const records: SeccompRecord[] = [];
    for (const line of lines) {
      const parsed: ParsedLine = parseAuditLine(line);
      counts[parsed.kind]++;
      if (parsed.kind === 'seccomp') records.push(parsed.record);
      else if (parsed.kind === 'malformed')
        this.#o.log.debug({ reason: parsed.reason, line }, 'malformed audit line');
    }
    // Counted per batch: label lookups per line would cost as much as parsing.
    for (const result of ['seccomp', 'ignored', 'malformed'] as const) {
      if (counts[result] > 0) this.#o.metrics.lines.inc({ source: this.#o.source, result }, counts[result]);
    }
    for (const r of records) {
      if (this.#dispatchCached(r)) continue;
      try {
        await this.#handle(r);
      } catch (err) {
        this.#o.metrics.records.inc({ result: 'error' });
        this.#o.log.warn({ err, pid: r.pid }, 'cannot attribute audit record');
      }
    }
  }

  /** Resolves when no backlogged container is waiting on a retry (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** idle(), bounded: false when records still wait on a container after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.idle().then(() => true as const), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  /** The common case, without a promise per record: pid and container already known. */
  #dispatchCached(r: SeccompRecord): boolean {
    const containerId = this.#pids.get(r.pid);
    if (containerId === undefined || containerId === NOT_IN_CONTAINER || this.#backlog.has(containerId))
      return false;
    const info = this.#containers.get(containerId);
    if (info === undefined) return false;
    this.#dispatch(r, info);
    return true;
  }

  async #handle(r: SeccompRecord): Promise<void> {
    let containerId = this.#pids.get(r.pid);
    if (containerId === undefined) {
      containerId = (await this.#o.resolver.containerOfPid(r.pid))?.containerId ?? NOT_IN_CONTAINER;
      // A host process may still be a container's process before it joins the container's cgroup.
      this.#pids.set(r.pid, containerId, containerId === NOT_IN_CONTAINER ? 2_000 : undefined);
    }
    if (containerId === NOT_IN_CONTAINER) {
      this.#o.metrics.records.inc({ result: 'unattributed' });
      return;
    }
    if (this.#backlog.has(containerId)) {
      this.#queue(containerId, r);
      return;
    }
    let info = this.#containers.get(containerId);
    if (info === undefined) {
      info = await this.#o.resolver.podOfContainer(containerId);
      if (info === undefined) {
        this.#queue(containerId, r);
        return;
      }
      this.#containers.set(containerId, info);
    }
    this.#dispatch(r, info);
  }

  #queue(containerId: string, r: SeccompRecord): void {
    const pushed = this.#backlog.push(containerId, r);
    if (pushed === 'dropped') {
      this.#o.metrics.records.inc({ result: 'dropped' });
      return;
    }
    if (pushed === 'first') {
      this.#o.log.debug({ containerId }, 'container not known yet, retrying');
      this.#schedule(containerId, 0);
    }
  }

  #schedule(containerId: string, attempt: number): void {
    if (this.#stopped) return;
    const delay = this.#retry.firstMs * this.#retry.factor ** attempt;
    let done: () => void = () => {};
    const pending = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.#pending.add(pending);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#retryContainer(containerId, attempt)
        .catch((err) => this.#o.log.warn({ err, containerId }, 'cannot resolve container'))
        .finally(() => {
          this.#pending.delete(pending);
          done();
        });
    }, delay);
    this.#timers.add(timer);
  }

  async #retryContainer(containerId: string, attempt: number): Promise<void> {
    let info: ContainerInfo | undefined;
    try {
      info = await this.#o.resolver.podOfContainer(containerId);
    } catch (err) {
      this.#o.log.debug({ err, containerId }, 'container lookup failed');
    }
    if (info !== undefined) {
      this.#containers.set(containerId, info);
      for (const r of this.#backlog.take(containerId)) this.#dispatch(r, info);
      return;
    }
    if (attempt + 1 < this.#retry.attempts) {
      this.#schedule(containerId, attempt + 1);
      return;
    }
    const lost = this.#backlog.take(containerId);
    this.#o.metrics.records.inc({ result: 'unattributed' }, lost.length);
    this.#o.log.warn({ containerId, records: lost.length }, 'container never became known, records dropped');
  }

  #dispatch(r: SeccompRecord, info: ContainerInfo): void {
    this.#o.metrics.records.inc({ result: 'attributed' });
    const recording = recordingOf(info);
    if (recording !== undefined && r.arch !== undefined && r.syscallName !== undefined) {
      const key = {
        recording,
        namespace: info.namespace,
        pod: info.pod,
        container: info.container,
        ...(info.podUid !== undefined ? { podUid: info.podUid } : {}),
      };
      if (!this.#o.store.add(key, r.arch, r.syscallName))
        this.#o.log.warn({ ...key }, 'recording store full, syscall not recorded');
    }
    const fields: AuditFields = {
      node: this.#o.nodeName,
      namespace: info.namespace,
      pod: info.pod,
      container: info.container,
      executable: r.exe ?? '',
      pid: r.pid,
      syscallID: r.syscallId,
      syscallName: r.syscallName,
      timestamp: r.timestamp,
      type: 'seccomp',
    };
    if (filterLevel(this.#o.filters, fields) === 'None') return;
    this.#o.log.info(fields, 'audit');
    this.#o.metrics.audit.inc({
      node: fields.node,
      namespace: fields.namespace,
      pod: fields.pod,
      container: fields.container,
      executable: fields.executable,
      syscall: fields.syscallName ?? String(fields.syscallID),
    });
  }
}
