import { TRACE_BPF_PREFIX, TRACE_LOGS_PREFIX } from '../webhook/recording.js';
import type { RecordedPod } from './recording-plan.js';

/** What the daemon keeps of a pod on its node: the fields the recording controller reads, nothing else. */
export interface CachedPod extends RecordedPod {
  apiVersion?: string;
  kind?: string;
  metadata: RecordedPod['metadata'] & { resourceVersion?: string };
}

type ContainerStatus = NonNullable<NonNullable<RecordedPod['status']>['containerStatuses']>[number];

const isTrace = (key: string) => key.startsWith(TRACE_BPF_PREFIX) || key.startsWith(TRACE_LOGS_PREFIX);

/** Only the presence of a state is read (running or not), so its timestamps and messages are not kept. */
function slimState(state: ContainerStatus['state']): ContainerStatus['state'] {
  if (state === undefined || state === null) return state;
  const out: NonNullable<ContainerStatus['state']> = {};
  if (state.running !== undefined) out.running = state.running === null ? null : {};
  if (state.terminated !== undefined) out.terminated = state.terminated === null ? null : {};
  if (state.waiting !== undefined) out.waiting = state.waiting === null ? null : {};
  return out;
}

function slimStatus(s: ContainerStatus): ContainerStatus {
  const lastId = s.lastState?.terminated?.containerID;
  return {
    name: s.name,
    ...(s.containerID !== undefined ? { containerID: s.containerID } : {}),
    ...(s.state !== undefined ? { state: slimState(s.state) } : {}),
    ...(lastId !== undefined ? { lastState: { terminated: { containerID: lastId } } } : {}),
  };
}

/**
 * The pod as the daemon's informer caches it. A node holds hundreds of pods and almost none is being recorded,
 * so a pod without an io.containers.trace-* annotation keeps its identity only (planPod() ignores it whatever
 * else it holds); a recorded one keeps its trace annotations, finalizers, owners' controller flags, deletion
 * and the container statuses planPod() reads. Every field the recording controller reads is kept as it was.
 */
export function cachedPod(pod: CachedPod): CachedPod {
  const m = pod.metadata;
  const identity = {
    ...(m.name !== undefined ? { name: m.name } : {}),
    ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
    ...(m.uid !== undefined ? { uid: m.uid } : {}),
    ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
  };
  const base = {
    ...(pod.apiVersion !== undefined ? { apiVersion: pod.apiVersion } : {}),
    ...(pod.kind !== undefined ? { kind: pod.kind } : {}),
  };
  const trace = Object.entries(m.annotations ?? {}).filter(([k]) => isTrace(k));
  if (trace.length === 0) return { ...base, metadata: identity };
  const s = pod.status;
  return {
    ...base,
    metadata: {
      ...identity,
      annotations: Object.fromEntries(trace),
      ...(m.finalizers !== undefined ? { finalizers: m.finalizers } : {}),
      ...(m.deletionTimestamp !== undefined ? { deletionTimestamp: m.deletionTimestamp } : {}),
      ...(m.ownerReferences !== undefined
        ? {
            ownerReferences: m.ownerReferences.map((o) =>
              o.controller !== undefined ? { controller: o.controller } : {},
            ),
          }
        : {}),
    },
    ...(s !== undefined
      ? {
          status: {
            ...(s.phase !== undefined ? { phase: s.phase } : {}),
            ...(s.initContainerStatuses !== undefined
              ? { initContainerStatuses: s.initContainerStatuses.map(slimStatus) }
              : {}),
            ...(s.containerStatuses !== undefined
              ? { containerStatuses: s.containerStatuses.map(slimStatus) }
              : {}),
          },
        }
      : {}),
  };
}
