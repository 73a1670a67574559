import type { ProfileBinding } from '../profiles/types.js';
import { type Decision, emptyDecision } from './decision.js';
import { normalizeImage } from './image.js';
import { setSeccompProfile } from './json-patch.js';
import { type Labels, selectorMatches } from './label-selector.js';
import { labelsOf, type Pod, podContainers } from './pod.js';
import { TRACE_LOGS_PREFIX } from './recording.js';

export const WILDCARD_IMAGE = '*';

/** Bindings of one namespace, keyed by normalised image, each list sorted by name so the first match wins. */
export interface BindingIndex {
  readonly byImage: ReadonlyMap<string, readonly ProfileBinding[]>;
  readonly wildcard: readonly ProfileBinding[];
}

/** The profiles that exist in the pod's namespace, by name. */
export interface ProfileNames {
  has(name: string): boolean;
}

/** Builds the lookup the decision uses; the cache keeps one per namespace so admission never scans a list. */
export function indexBindings(bindings: readonly ProfileBinding[]): BindingIndex {
  const byImage = new Map<string, ProfileBinding[]>();
  const wildcard: ProfileBinding[] = [];
  const live = bindings
    .filter((b) => !(b.metadata as { deletionTimestamp?: string }).deletionTimestamp)
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const b of live) {
    const image = typeof b.spec?.image === 'string' ? b.spec.image.trim() : '';
    if (image === '') continue;
    if (image === WILDCARD_IMAGE) {
      wildcard.push(b);
      continue;
    }
    const key = normalizeImage(image);
    const list = byImage.get(key);
    if (list) list.push(b);
    else byImage.set(key, [b]);
  }
  return { byImage, wildcard };
}

/** `operator/<namespace>/<name>.json`, relative to the kubelet's seccomp directory. */
export function localhostProfilePath(namespace: string, name: string): string {
  return `operator/${namespace}/${name}.json`;
}

interface UsableContext {
  readonly labels: Labels;
  readonly profiles: ProfileNames;
  readonly decision: Decision;
  warned: Set<ProfileBinding> | undefined;
}

/** A binding applies when its selector matches and its profile exists; a missing profile warns once. */
function usable(b: ProfileBinding, ctx: UsableContext): boolean {
  if (!selectorMatches(b.spec.podSelector, ctx.labels)) return false;
  if (ctx.profiles.has(b.spec.profileRef.name)) return true;
  ctx.warned ??= new Set();
  if (!ctx.warned.has(b)) {
    ctx.warned.add(b);
    ctx.decision.warnings.push(
      `ProfileBinding ${b.metadata.name}: SeccompProfile ${b.spec.profileRef.name} not found; binding skipped`,
    );
  }
  return false;
}

/**
 * The binding webhook's decision for a pod being created: every container (init containers too) whose image
 * matches a binding gets the bound profile; `*` bindings cover only containers no image binding covered.
 * A binding whose profile does not exist is skipped with a warning. Pure: reads nothing but its arguments.
 */
export function decideBinding(
  pod: Pod,
  bindings: BindingIndex,
  profiles: ProfileNames,
  podNamespace?: string,
): Decision {
  const decision = emptyDecision();
  const containers = podContainers(pod);
  if (containers.length === 0) return decision;
  const ctx: UsableContext = { labels: labelsOf(pod), profiles, decision, warned: undefined };
  const annotations = pod.metadata?.annotations;
  let wildcard: ProfileBinding | null | undefined;
  for (const { container, pointer } of containers) {
    const name = typeof container.name === 'string' ? container.name : pointer;
    // A logs recording needs the container under the SCMP_ACT_LOG profile the recording webhook set; binding
    // it would silently record nothing. The recording webhook runs first, so the annotation is already here.
    if (
      typeof container.name === 'string' &&
      annotations?.[TRACE_LOGS_PREFIX + container.name] !== undefined
    ) {
      decision.reasons.push(`container ${name}: recorded by logs, binding skipped`);
      continue;
    }
    let chosen: ProfileBinding | undefined;
    if (typeof container.image === 'string') {
      const candidates = bindings.byImage.get(normalizeImage(container.image));
      if (candidates) {
        for (const b of candidates) {
          if (!usable(b, ctx)) continue;
          if (chosen === undefined) chosen = b;
          else if (b.spec.profileRef.name !== chosen.spec.profileRef.name) {
            decision.warnings.push(
              `container ${name}: ProfileBindings ${chosen.metadata.name} and ${b.metadata.name} both match; using ${chosen.metadata.name}`,
            );
          }
        }
      }
    }
    if (chosen === undefined) {
      // Resolved once and only when some container needs it, so a missing wildcard profile warns only then.
      if (wildcard === undefined) wildcard = bindings.wildcard.find((b) => usable(b, ctx)) ?? null;
      if (wildcard === null) continue;
      chosen = wildcard;
    }
    const namespace = chosen.metadata.namespace ?? podNamespace ?? pod.metadata?.namespace ?? 'default';
    const localhostProfile = localhostProfilePath(namespace, chosen.spec.profileRef.name);
    const { replaced } = setSeccompProfile(
      container,
      pointer,
      { type: 'Localhost', localhostProfile },
      decision.patch,
    );
    if (replaced !== undefined) {
      decision.warnings.push(
        `container ${name}: seccompProfile ${replaced} replaced by ProfileBinding ${chosen.metadata.name}`,
      );
    }
    decision.reasons.push(
      `container ${name}: ${localhostProfile} from ProfileBinding ${chosen.metadata.name}`,
    );
  }
  return decision;
}
