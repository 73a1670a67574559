// The API group, versions and name pattern, apart from the schema: the node daemon needs these strings, and
// importing schema.ts for them would load typebox (~6 MB of RSS) into a process with an 80 MB budget.
export const API_GROUP = 'security-profiles-operator.x-k8s.io';
export const SECCOMP_PROFILE_API_VERSION = `${API_GROUP}/v1beta1`;
export const PROFILE_BINDING_API_VERSION = `${API_GROUP}/v1alpha1`;
export const PROFILE_RECORDING_API_VERSION = `${API_GROUP}/v1alpha1`;
export const NODE_STATUS_API_VERSION = `${API_GROUP}/v1alpha1`;
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
