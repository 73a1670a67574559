import type { SeccompProfile } from '../profiles/types.js';

/** The metadata the daemon reads of a profile: its identity, labels, generation and deletion. */
interface ProfileMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  deletionTimestamp?: unknown;
}

/**
 * The profile as the daemon's informer caches it: apiVersion, kind, spec and the metadata ProfileSync, the
 * node status writer and the event recorder read. The status (the manager's, with its list of workloads) and
 * the annotations (`kubectl apply` keeps a second copy of the spec there) are not kept: nothing here reads
 * them, and a node holds every profile of the cluster.
 */
export function cachedProfile<T extends SeccompProfile>(profile: T): T {
  const m = profile.metadata as ProfileMeta;
  const metadata: ProfileMeta = { name: m.name };
  if (m.namespace !== undefined) metadata.namespace = m.namespace;
  if (m.labels !== undefined) metadata.labels = m.labels;
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  if (m.generation !== undefined) metadata.generation = m.generation;
  if (m.deletionTimestamp !== undefined) metadata.deletionTimestamp = m.deletionTimestamp;
  const out = { metadata, spec: profile.spec } as Partial<SeccompProfile> & { metadata: ProfileMeta };
  if (profile.apiVersion !== undefined) out.apiVersion = profile.apiVersion;
  if (profile.kind !== undefined) out.kind = profile.kind;
  return out as T;
}
