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
