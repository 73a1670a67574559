import type { ProfileRecording } from '../profiles/types.js';
import { type Decision, emptyDecision } from './decision.js';
import { setMetadataEntries, setSeccompProfile } from './json-patch.js';
import { selectorMatches } from './label-selector.js';
import { labelsOf, type Pod, podContainers } from './pod.js';

export const RECORDING_ID_LABEL = 'spo.x-k8s.io/recording-id';
export const TRACE_BPF_PREFIX = 'io.containers.trace-bpf/';
export const TRACE_LOGS_PREFIX = 'io.containers.trace-logs/';
export const LOG_ENRICHER_PROFILE = 'log-enricher-trace';

export interface RecordingOptions {
  /** Where the operator installs the log profile: the path is operator/<operatorNamespace>/log-enricher-trace.json */
  readonly operatorNamespace: string;
}

function byName(a: ProfileRecording, b: ProfileRecording): number {
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** Live recordings sorted by name: what the cache hands the decision. */
export function sortRecordings(recordings: readonly ProfileRecording[]): ProfileRecording[] {
  return recordings
    .filter((r) => !(r.metadata as { deletionTimestamp?: string }).deletionTimestamp)
    .sort(byName);
}

/**
 * The recording webhook's decision for a pod being created: the first recording (by name) whose podSelector
 * matches labels the pod with its name and annotates each selected container for the recorder. The values
 * carry no nonce or time, so a second admission pass changes nothing. `recordings` must come sorted.
 */
export function decideRecording(
  pod: Pod,
  recordings: readonly ProfileRecording[],
  options: RecordingOptions,
): Decision {
  const decision = emptyDecision();
  const labels = labelsOf(pod);
  const matching = recordings.filter((r) => selectorMatches(r.spec.podSelector, labels));
  const [recording, ...others] = matching;
  if (recording === undefined) return decision;
  const name = recording.metadata.name;
  if (others.length > 0) {
    decision.warnings.push(
      `pod matches ProfileRecordings ${matching.map((r) => r.metadata.name).join(', ')}; only ${name} records it`,
    );
  }
  const logs = recording.spec.recorder === 'logs';
  const prefix = logs ? TRACE_LOGS_PREFIX : TRACE_BPF_PREFIX;
  const allow = recording.spec.containers;
  const annotations: [string, string][] = [];
  for (const { container, pointer } of podContainers(pod)) {
    if (typeof container.name !== 'string') continue;
    if (allow !== undefined && !allow.includes(container.name)) continue;
    annotations.push([prefix + container.name, name]);
    if (!logs) continue;
    if (container.securityContext?.privileged === true) {
      decision.warnings.push(
        `container ${container.name} is privileged: seccomp does not apply, so ProfileRecording ${name} records nothing for it`,
      );
    }
    const localhostProfile = `operator/${options.operatorNamespace}/${LOG_ENRICHER_PROFILE}.json`;
    const { replaced } = setSeccompProfile(
      container,
      pointer,
      { type: 'Localhost', localhostProfile },
      decision.patch,
    );
    if (replaced !== undefined) {
      decision.warnings.push(
        `container ${container.name}: seccompProfile ${replaced} replaced by the log profile for ProfileRecording ${name}`,
      );
    }
  }
  if (annotations.length === 0) {
    decision.warnings.push(`ProfileRecording ${name} selects none of this pod's containers`);
    return decision;
  }
  // Metadata ops go first so the patch reads pod-level then container-level, the order a reviewer expects.
  const containerOps = decision.patch.splice(0);
  setMetadataEntries(pod, 'labels', [[RECORDING_ID_LABEL, name]], decision.patch);
  setMetadataEntries(pod, 'annotations', annotations, decision.patch);
  decision.patch.push(...containerOps);
  decision.reasons.push(
    `recording ${name} (${recording.spec.recorder}): ${annotations.map(([k]) => k.slice(prefix.length)).join(', ')}`,
  );
  return decision;
}
