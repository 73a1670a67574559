import type { ProfileBinding } from '../profiles/types.js';
import { localhostProfilePath, WILDCARD_IMAGE } from '../webhook/binding.js';
import { normalizeImage } from '../webhook/image.js';
import { selectorMatches } from '../webhook/label-selector.js';
import { labelsOf, type Pod, podContainers } from '../webhook/pod.js';

export const ACTIVE_WORKLOAD_FINALIZER = 'active-workload-lock';

export interface PodWithStatus extends Pod {
  status?: { phase?: string };
}

/** A pod that can still run a container: its profile is in use until it has finished or is gone. */
function isActive(pod: PodWithStatus): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/**
 * For each binding of one namespace, the pods (`<ns>/<name>`, sorted) that run a container under the
 * binding's profile with an image the binding matches. Read from the pods themselves, so it holds whoever
 * admitted them and survives restarts of the webhook and the manager.
 */
export function bindingUsage(
  namespace: string,
  bindings: readonly ProfileBinding[],
  pods: readonly PodWithStatus[],
): Map<string, string[]> {
  const usage = new Map<string, string[]>(bindings.map((b) => [b.metadata.name, []]));
  const specific = bindings.filter((b) => b.spec.image !== WILDCARD_IMAGE);
  const normalised = new Map(specific.map((b) => [b, normalizeImage(b.spec.image)]));
  for (const pod of pods) {
    if (!isActive(pod)) continue;
    const name = pod.metadata?.name;
    if (!name) continue;
    const labels = labelsOf(pod);
    const users = new Set<string>();
    for (const { container } of podContainers(pod)) {
      const profile = container.securityContext?.seccompProfile;
      if (profile?.type !== 'Localhost' || typeof container.image !== 'string') continue;
      const image = normalizeImage(container.image);
      const matches = (b: ProfileBinding) =>
        selectorMatches(b.spec.podSelector, labels) &&
        profile.localhostProfile === localhostProfilePath(namespace, b.spec.profileRef.name);
      const bySpecific = specific.filter((b) => normalised.get(b) === image && matches(b));
      const candidates =
        bySpecific.length > 0
          ? bySpecific
          : bindings.filter((b) => b.spec.image === WILDCARD_IMAGE && matches(b));
      for (const b of candidates) users.add(b.metadata.name);
    }
    for (const b of users) usage.get(b)?.push(`${namespace}/${name}`);
  }
  for (const list of usage.values()) list.sort();
  return usage;
}

export interface BindingSync {
  /** The new status.activeWorkloads, when it differs. */
  readonly activeWorkloads?: string[];
  /** The new finalizer list, when it differs. */
  readonly finalizers?: string[];
}

/** What to write so the binding's status and finalizer match `users`; empty when it already does. */
export function bindingSync(binding: ProfileBinding, users: readonly string[]): BindingSync {
  const current = [...(binding.status?.activeWorkloads ?? [])].sort();
  const out: { activeWorkloads?: string[]; finalizers?: string[] } = {};
  if (current.length !== users.length || current.some((v, i) => v !== users[i]))
    out.activeWorkloads = [...users];
  const finalizers = (binding.metadata as { finalizers?: string[] }).finalizers ?? [];
  const has = finalizers.includes(ACTIVE_WORKLOAD_FINALIZER);
  if (users.length > 0 && !has) out.finalizers = [...finalizers, ACTIVE_WORKLOAD_FINALIZER];
  if (users.length === 0 && has) out.finalizers = finalizers.filter((f) => f !== ACTIVE_WORKLOAD_FINALIZER);
  return out;
}
