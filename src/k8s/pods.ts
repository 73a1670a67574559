import { CoreV1Api, type KubeConfig, type KubernetesListObject, type V1Pod } from '@kubernetes/client-node';
import type { ResourceRef } from './resources.js';

export const PODS: ResourceRef = { group: '', version: 'v1', plural: 'pods' };

/**
 * A list function for pods across namespaces, or in one (single-namespace mode); pair it with
 * `resourcePath(PODS, namespace)` for the watch, and pass the same field selector to both.
 */
export function listPods<T extends V1Pod = V1Pod>(
  kc: KubeConfig,
  namespace?: string,
  fieldSelector?: string,
) {
  const core = kc.makeApiClient(CoreV1Api);
  const selector = fieldSelector === undefined ? {} : { fieldSelector };
  return () =>
    (namespace === undefined
      ? core.listPodForAllNamespaces(selector)
      : core.listNamespacedPod({ namespace, ...selector })) as Promise<KubernetesListObject<T>>;
}
