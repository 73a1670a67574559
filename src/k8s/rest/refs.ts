import type { ResourceRef } from '../resources.js';

// Built-in resources the operator calls; its own custom resources are in src/k8s/resources.ts.
export const PODS: ResourceRef = { group: '', version: 'v1', plural: 'pods' };
export const CONFIG_MAPS: ResourceRef = { group: '', version: 'v1', plural: 'configmaps' };
export const EVENTS: ResourceRef = { group: '', version: 'v1', plural: 'events' };
export const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces' };
export const NODES: ResourceRef = { group: '', version: 'v1', plural: 'nodes' };
export const DAEMON_SETS: ResourceRef = { group: 'apps', version: 'v1', plural: 'daemonsets' };
export const TOKEN_REVIEWS: ResourceRef = {
  group: 'authentication.k8s.io',
  version: 'v1',
  plural: 'tokenreviews',
};
export const SUBJECT_ACCESS_REVIEWS: ResourceRef = {
  group: 'authorization.k8s.io',
  version: 'v1',
  plural: 'subjectaccessreviews',
};
