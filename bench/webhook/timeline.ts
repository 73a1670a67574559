// Where the slow answers of the HTTPS bench come from: lines each slow request (client clock, epoch ms) up with
// the GC pauses of the client and of the server that overlap it. Both processes run on one machine, so their
// performance.timeOrigin + now() share a clock to well under the pauses being looked for.
import type { PerformanceEntry } from 'node:perf_hooks';

/** [start epoch ms, duration ms, V8 gc kind (1 scavenge, 2 mark-compact, 4 incremental, 8 weak callbacks)] */
export type GcPause = [number, number, number];

/** A PerformanceObserver 'gc' entry; the DOM typings of PerformanceEntry do not declare detail. */
export type GcEntry = PerformanceEntry & { readonly detail?: { readonly kind?: number } };

export interface ServerReport {
  /** [arrival epoch ms ('request' event), ms until the answer's 'finish', the client's x-bench-id or -1] */
  requests: [number, number, number][];
  gc: GcPause[];
}

/** One request as the client saw it, epoch ms: when it was handed to a connection and when its answer was read. */
export interface ClientSample {
  readonly id: number;
  readonly start: number;
  readonly done: number;
}

export interface GcSummary {
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
  readonly scavenges: number;
  readonly markCompacts: number;
}

export interface SlowAttribution {
  readonly thresholdMs: number;
  readonly slow: number;
  readonly clientGc: number;
  readonly serverGc: number;
  readonly both: number;
  readonly neither: number;
}

export function summarizeGc(pauses: readonly GcPause[]): GcSummary {
  let totalMs = 0;
  let maxMs = 0;
  let scavenges = 0;
  let markCompacts = 0;
  for (const [, dur, kind] of pauses) {
    totalMs += dur;
    maxMs = Math.max(maxMs, dur);
    if (kind === 1) scavenges++;
    if (kind === 2) markCompacts++;
  }
  return { count: pauses.length, totalMs, maxMs, scavenges, markCompacts };
}

function overlaps(sample: ClientSample, pauses: readonly GcPause[]): boolean {
  for (const [start, dur] of pauses) if (start < sample.done && start + dur > sample.start) return true;
  return false;
}

/** Counts the requests slower than the threshold by which process was in a GC pause during them. */
export function attributeSlow(
  samples: readonly ClientSample[],
  clientGc: readonly GcPause[],
  serverGc: readonly GcPause[],
  thresholdMs: number,
): SlowAttribution {
  let slow = 0;
  let client = 0;
  let server = 0;
  let both = 0;
  let neither = 0;
  for (const s of samples) {
    if (s.done - s.start <= thresholdMs) continue;
    slow++;
    const c = overlaps(s, clientGc);
    const v = overlaps(s, serverGc);
    if (c && v) both++;
    else if (c) client++;
    else if (v) server++;
    else neither++;
  }
  return { thresholdMs, slow, clientGc: client, serverGc: server, both, neither };
}

export interface SlowBreakdown {
  /** Slow answers the server has a record of. */
  readonly matched: number;
  /** Medians over the slow answers, ms: client hand-over to the server's 'request' event (client write, TLS,
   * the server's event loop before it got to the request), the server's own time, and 'finish' to the client
   * having read the answer (the client's event loop after the answer arrived). */
  readonly toServerMs: number;
  readonly inServerMs: number;
  readonly backMs: number;
  /** How many slow answers spent most of their time in each part. */
  readonly mostlyToServer: number;
  readonly mostlyInServer: number;
  readonly mostlyBack: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor(s.length / 2)] as number);
};

/** Splits each slow answer at the server's arrival and finish times, found by the request id. */
export function breakDownSlow(
  samples: readonly ClientSample[],
  requests: readonly [number, number, number][],
  thresholdMs: number,
): SlowBreakdown {
  const byId = new Map<number, [number, number]>();
  for (const [arrival, held, id] of requests) if (id >= 0) byId.set(id, [arrival, held]);
  const to: number[] = [];
  const inside: number[] = [];
  const back: number[] = [];
  let mostlyToServer = 0;
  let mostlyInServer = 0;
  let mostlyBack = 0;
  for (const s of samples) {
    if (s.done - s.start <= thresholdMs) continue;
    const r = byId.get(s.id);
    if (!r) continue;
    const parts = [r[0] - s.start, r[1], s.done - (r[0] + r[1])] as const;
    to.push(parts[0]);
    inside.push(parts[1]);
    back.push(parts[2]);
    const most = Math.max(...parts);
    if (most === parts[0]) mostlyToServer++;
    else if (most === parts[1]) mostlyInServer++;
    else mostlyBack++;
  }
  return {
    matched: to.length,
    toServerMs: median(to),
    inServerMs: median(inside),
    backMs: median(back),
    mostlyToServer,
    mostlyInServer,
    mostlyBack,
  };
}
