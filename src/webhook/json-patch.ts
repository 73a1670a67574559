import type { Operation } from 'fast-json-patch';
import { type Container, isObject, type Pod, type SeccompProfileRef } from './pod.js';

/** RFC 6901: `~` and `/` inside a key must be escaped, or `io.containers.trace-bpf/app` becomes two segments. */
export function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function describeProfile(p: SeccompProfileRef): string {
  return p.localhostProfile ? `${p.type ?? '?'} ${p.localhostProfile}` : String(p.type ?? 'unset');
}

/**
 * Ops that make the container's seccompProfile exactly `want`, creating securityContext when absent.
 * Returns the previous explicit profile when one is replaced, so the caller can warn about it.
 */
export function setSeccompProfile(
  container: Container,
  pointer: string,
  want: SeccompProfileRef,
  patch: Operation[],
): { replaced?: string } {
  const sc = container.securityContext;
  if (!isObject(sc)) {
    patch.push({ op: 'add', path: `${pointer}/securityContext`, value: { seccompProfile: { ...want } } });
    return {};
  }
  const current = sc.seccompProfile;
  if (!isObject(current)) {
    patch.push({ op: 'add', path: `${pointer}/securityContext/seccompProfile`, value: { ...want } });
    return {};
  }
  if (current.type === want.type && current.localhostProfile === want.localhostProfile) return {};
  patch.push({ op: 'replace', path: `${pointer}/securityContext/seccompProfile`, value: { ...want } });
  return { replaced: describeProfile(current) };
}

/** Ops that set string map entries under /metadata/<field>, with one `add` of the whole map when it is absent. */
export function setMetadataEntries(
  pod: Pod,
  field: 'labels' | 'annotations',
  entries: ReadonlyArray<readonly [string, string]>,
  patch: Operation[],
): void {
  if (entries.length === 0) return;
  if (!isObject(pod.metadata)) {
    patch.push({ op: 'add', path: '/metadata', value: { [field]: Object.fromEntries(entries) } });
    return;
  }
  const current = pod.metadata[field];
  if (!isObject(current)) {
    patch.push({ op: 'add', path: `/metadata/${field}`, value: Object.fromEntries(entries) });
    return;
  }
  for (const [key, value] of entries) {
    if (current[key] === value) continue;
    const op = Object.hasOwn(current, key) ? 'replace' : 'add';
    patch.push({ op, path: `/metadata/${field}/${escapePointer(key)}`, value });
  }
}
