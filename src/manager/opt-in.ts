export const ENABLE_BINDING_LABEL = 'spo.x-k8s.io/enable-binding';
export const ENABLE_RECORDING_LABEL = 'spo.x-k8s.io/enable-recording';
/** Which opt-in labels the manager set itself (comma-separated), so it never removes one a user set by hand. */
export const MANAGED_OPT_IN_ANNOTATION = 'spo.x-k8s.io/managed-opt-in';

/** Namespaces the webhooks must never see: a Fail webhook there could stop the cluster from healing. */
export const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'] as const;

export interface NamespaceMeta {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
}

export interface OptInWant {
  readonly binding: boolean;
  readonly recording: boolean;
}

/** A JSON merge patch for the namespace's metadata; null deletes a key. */
export interface NamespacePatch {
  metadata: { labels?: Record<string, string | null>; annotations: Record<string, string | null> };
}

/**
 * The merge patch that makes a namespace's opt-in labels follow what it holds, or undefined when nothing
 * changes. Labels the manager did not set are left alone, in both directions.
 */
export function optInPatch(
  ns: NamespaceMeta,
  want: OptInWant,
  excluded: ReadonlySet<string>,
): NamespacePatch | undefined {
  const labels = ns.labels ?? {};
  const managedNow = (ns.annotations?.[MANAGED_OPT_IN_ANNOTATION] ?? '').split(',').filter(Boolean);
  const managed = new Set(managedNow);
  const labelPatch: Record<string, string | null> = {};
  const skip = excluded.has(ns.name);
  for (const [label, wanted] of [
    [ENABLE_BINDING_LABEL, want.binding && !skip],
    [ENABLE_RECORDING_LABEL, want.recording && !skip],
  ] as const) {
    const present = Object.hasOwn(labels, label);
    if (wanted && !present) {
      labelPatch[label] = 'true';
      managed.add(label);
    } else if (!wanted && present && managed.has(label)) {
      labelPatch[label] = null;
      managed.delete(label);
    } else if (!present) {
      managed.delete(label);
    }
  }
  const managedNext = [...managed].sort().join(',');
  const annotationChanged = managedNext !== [...managedNow].sort().join(',');
  if (Object.keys(labelPatch).length === 0 && !annotationChanged) return undefined;
  const patch: NamespacePatch = {
    metadata: { annotations: { [MANAGED_OPT_IN_ANNOTATION]: managedNext === '' ? null : managedNext } },
  };
  if (Object.keys(labelPatch).length > 0) patch.metadata.labels = labelPatch;
  return patch;
}
