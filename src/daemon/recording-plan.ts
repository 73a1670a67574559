import { ARCHES, type Arch } from '../profiles/syscalls/index.js';
import { TRACE_BPF_PREFIX, TRACE_LOGS_PREFIX } from '../webhook/recording.js';

/** On a pod being recorded: holds its deletion until its profiles are saved (the state lives in the API). */
export const RECORDING_FINALIZER = 'spo.x-k8s.io/profile-recording';
export const RECORDING_ID_LABEL = 'spo.x-k8s.io/recording-id';
export const CONTAINER_ID_LABEL = 'spo.x-k8s.io/container-id';
/** Which pod a profile came from, so a daemon that restarts after creating it does not create it again. */
export const POD_UID_LABEL = 'spo.x-k8s.io/recorded-pod-uid';
/** On a recording with mergeStrategy containers: partial profiles wait for the manager's merge. */
export const UNMERGED_FINALIZER = 'spo.x-k8s.io/has-unmerged-profiles';

/** The pod fields the recording controller reads. */
export interface RecordedPod {
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: unknown;
    ownerReferences?: { controller?: boolean }[];
  };
  status?: {
    phase?: string;
    initContainerStatuses?: ContainerStatusLike[];
    containerStatuses?: ContainerStatusLike[];
  };
}

interface ContainerStatusLike {
  name: string;
  containerID?: string;
  state?: { running?: unknown; terminated?: unknown; waiting?: unknown };
  lastState?: { terminated?: { containerID?: string } };
}

/** bpf: the eBPF recorder (`seccompctl recorder`); logs: the log enricher's audit records. */
export type RecorderKind = 'bpf' | 'logs';

export interface RecordedContainer {
  readonly container: string;
  readonly recording: string;
  readonly recorder: RecorderKind;
}

/**
 * `io.containers.trace-bpf/<container>: <recording>` (the webhook writes these for bpf and hook) and
 * `io.containers.trace-logs/<container>: <recording>` (logs). A container annotated both ways (only by hand)
 * is recorded with bpf: it does not run under the log profile unless the webhook put it there.
 */
export function recordedContainers(pod: RecordedPod): RecordedContainer[] {
  const byName = new Map<string, RecordedContainer>();
  for (const [k, v] of Object.entries(pod.metadata.annotations ?? {})) {
    if (v === '') continue;
    if (k.startsWith(TRACE_BPF_PREFIX)) {
      const container = k.slice(TRACE_BPF_PREFIX.length);
      byName.set(container, { container, recording: v, recorder: 'bpf' });
    } else if (k.startsWith(TRACE_LOGS_PREFIX)) {
      const container = k.slice(TRACE_LOGS_PREFIX.length);
      if (byName.get(container)?.recorder !== 'bpf')
        byName.set(container, { container, recording: v, recorder: 'logs' });
    }
  }
  return [...byName.values()].sort((a, b) =>
    a.container < b.container ? -1 : a.container > b.container ? 1 : 0,
  );
}

/** The recorder's key for one container of one pod: restarts of that container share it. */
export function recordingKey(pod: RecordedPod, container: string): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.uid ?? ''}/${container}`;
}

/** `containerd://<id>` -> `<id>`. */
export function bareContainerId(containerID: string): string {
  const i = containerID.indexOf('://');
  return i < 0 ? containerID : containerID.slice(i + 3);
}

export interface PodPlan {
  readonly recorded: readonly RecordedContainer[];
  /** record: keep tracking; collect: the workload is over, make the profiles. */
  readonly action: 'record' | 'collect';
  /** bpf-recorded containers (init ones too, restarts too) that have an id, to track. */
  readonly track: readonly { containerId: string; key: string }[];
}

function statuses(pod: RecordedPod): ContainerStatusLike[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

export const ALL_RECORDERS: ReadonlySet<RecorderKind> = new Set(['bpf', 'logs']);

/**
 * What to do about a pod on this node, or undefined when it is not being recorded by one of the `available`
 * recorders (a daemon started without an enricher socket leaves logs recordings alone). A pod is over when it
 * succeeded or failed, or when it is being deleted and none of its containers runs any more.
 */
export function planPod(
  pod: RecordedPod,
  available: ReadonlySet<RecorderKind> = ALL_RECORDERS,
): PodPlan | undefined {
  const recorded = recordedContainers(pod).filter((r) => available.has(r.recorder));
  if (recorded.length === 0) return undefined;
  // the log enricher attributes its records itself: only the eBPF recorder is told about containers
  const names = new Set(recorded.filter((r) => r.recorder === 'bpf').map((r) => r.container));
  const track: { containerId: string; key: string }[] = [];
  for (const s of statuses(pod)) {
    if (!names.has(s.name)) continue;
    for (const id of [s.lastState?.terminated?.containerID, s.containerID]) {
      if (id) track.push({ containerId: bareContainerId(id), key: recordingKey(pod, s.name) });
    }
  }
  const phase = pod.status?.phase;
  const over =
    phase === 'Succeeded' ||
    phase === 'Failed' ||
    (pod.metadata.deletionTimestamp !== undefined &&
      pod.metadata.deletionTimestamp !== null &&
      !statuses(pod).some((s) => s.state?.running !== undefined && s.state.running !== null));
  return { recorded, action: over ? 'collect' : 'record', track };
}

/** Pods a controller owns (Deployment, Job, ...) are replicas: their profiles are numbered. */
export function isReplica(pod: RecordedPod): boolean {
  return (pod.metadata.ownerReferences ?? []).some((o) => o.controller === true);
}

/**
 * The profile name for a recorded container (DESIGN "Profile names from recordings"): `<rec>-<ctr>` for a
 * single pod, `<rec>-<ctr>-<n>` with the lowest free n for replicas and for partial profiles (which merge into
 * `<rec>-<ctr>`). `taken` holds the names already used in the namespace.
 */
export function profileName(
  recording: string,
  container: string,
  numbered: boolean,
  taken: ReadonlySet<string>,
): string {
  const base = `${recording}-${container}`;
  if (!numbered) return base;
  for (let n = 0; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

/** Finalizers after adding or removing one; undefined when nothing changes. */
export function withFinalizer(current: readonly string[] | undefined, name: string, present: boolean) {
  const list = current ?? [];
  if (list.includes(name) === present) return undefined;
  return present ? [...list, name] : list.filter((f) => f !== name);
}

/** What a recorder reported for one container, ready to become a profile. */
export interface RecordedSyscalls {
  readonly arches: readonly Arch[];
  readonly syscalls: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * The log enricher's answer for one container (it answers per pod and container; the runs of a restarted
 * container share one entry) as one set of names over the architectures seen. Undefined: nothing recorded.
 */
export function fromEnricher(
  found: readonly { architectures: readonly { arch: string; syscalls: readonly string[] }[] }[],
): RecordedSyscalls | undefined {
  const arches = new Set<Arch>();
  const names = new Set<string>();
  const warnings: string[] = [];
  for (const c of found) {
    for (const a of c.architectures) {
      if (!(ARCHES as readonly string[]).includes(a.arch)) {
        warnings.push(`syscalls of architecture ${a.arch} left out: no table for it`);
        continue;
      }
      if (a.syscalls.length === 0) continue;
      arches.add(a.arch as Arch);
      for (const n of a.syscalls) names.add(n);
    }
  }
  if (names.size === 0) return undefined;
  return {
    arches: ARCHES.filter((a) => arches.has(a)),
    syscalls: [...names].sort(),
    warnings,
  };
}
