import type { ProfileBinding, ProfileRecording } from '../profiles/types.js';
import { type BindingIndex, indexBindings, type ProfileNames } from './binding.js';
import { sortRecordings } from './recording.js';
import type { AdmissionState } from './state.js';

function groupBy<T extends { metadata: { namespace?: string } }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const ns = item.metadata.namespace ?? 'default';
    const list = out.get(ns);
    if (list) list.push(item);
    else out.set(ns, [item]);
  }
  return out;
}

/** Admission state from fixed lists: for tests, benchmarks and a webhook run without a cluster. */
export function staticState(input: {
  bindings?: readonly ProfileBinding[];
  recordings?: readonly ProfileRecording[];
  /** namespace -> profile names */
  profiles?: Readonly<Record<string, readonly string[]>>;
  synced?: boolean;
}): AdmissionState & { setSynced(v: boolean): void } {
  let synced = input.synced ?? true;
  const bindings = new Map([...groupBy(input.bindings ?? [])].map(([ns, list]) => [ns, indexBindings(list)]));
  const recordings = new Map(
    [...groupBy(input.recordings ?? [])].map(([ns, list]) => [ns, sortRecordings(list)]),
  );
  const profiles = new Map(Object.entries(input.profiles ?? {}).map(([ns, names]) => [ns, new Set(names)]));
  const noBindings = indexBindings([]);
  const noProfiles: ProfileNames = new Set<string>();
  return {
    synced: () => synced,
    setSynced: (v) => {
      synced = v;
    },
    bindings: (ns): BindingIndex => bindings.get(ns) ?? noBindings,
    recordings: (ns) => recordings.get(ns) ?? [],
    profiles: (ns) => profiles.get(ns) ?? noProfiles,
  };
}
