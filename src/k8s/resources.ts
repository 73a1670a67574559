import type { KubernetesObject } from '@kubernetes/client-node';
import { API_GROUP } from '../profiles/api-names.js';

export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

export const PROFILE_BINDINGS: ResourceRef = {
  group: API_GROUP,
  version: 'v1alpha1',
  plural: 'profilebindings',
};
export const PROFILE_RECORDINGS: ResourceRef = {
  group: API_GROUP,
  version: 'v1alpha1',
  plural: 'profilerecordings',
};
export const SECCOMP_PROFILES: ResourceRef = {
  group: API_GROUP,
  version: 'v1beta1',
  plural: 'seccompprofiles',
};
export const SPODS: ResourceRef = {
  group: API_GROUP,
  version: 'v1alpha1',
  plural: 'securityprofilesoperatordaemons',
};

/** The watch path of a resource across all namespaces (or one). */
export function resourcePath(ref: ResourceRef, namespace?: string): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  return namespace ? `${base}/namespaces/${namespace}/${ref.plural}` : `${base}/${ref.plural}`;
}

export function keyOf(obj: KubernetesObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}
