import type { V1Pod, V1PodSpec, V1SeccompProfile } from '@kubernetes/client-node';
import { isSeccompAnnotation } from './profile-usage.js';

type SeccompHolder = { securityContext?: { seccompProfile?: V1SeccompProfile } };
type AnyContainer = { name: string; image?: string } & SeccompHolder;

function seccompOnly(holder: SeccompHolder): SeccompHolder {
  const profile = holder.securityContext?.seccompProfile;
  return profile === undefined ? {} : { securityContext: { seccompProfile: profile } };
}

function slimContainer<C extends AnyContainer>(c: C): C {
  return { name: c.name, ...(c.image !== undefined ? { image: c.image } : {}), ...seccompOnly(c) } as C;
}

function slimSpec(spec: V1PodSpec): V1PodSpec {
  return {
    containers: (spec.containers ?? []).map(slimContainer),
    ...(spec.initContainers !== undefined ? { initContainers: spec.initContainers.map(slimContainer) } : {}),
    ...(spec.ephemeralContainers !== undefined
      ? { ephemeralContainers: spec.ephemeralContainers.map(slimContainer) }
      : {}),
    ...(seccompOnly(spec) as Pick<V1PodSpec, 'securityContext'>),
  };
}

/**
 * The pod as the manager's informer caches it. It watches the pods of a whole cluster and reads few of their
 * fields, so only those are kept, as they were: the identity, the labels (binding pod selectors), the legacy
 * seccomp annotations, each container's name, image and seccomp profile, the pod-level seccomp profile and the
 * phase. Environment, volumes, probes, resources, managed fields, conditions and other annotations are dropped.
 */
export function managerPod(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  const annotations = Object.entries(m.annotations ?? {}).filter(([key]) => isSeccompAnnotation(key));
  const phase = pod.status?.phase;
  return {
    ...(pod.apiVersion !== undefined ? { apiVersion: pod.apiVersion } : {}),
    ...(pod.kind !== undefined ? { kind: pod.kind } : {}),
    metadata: {
      ...(m.name !== undefined ? { name: m.name } : {}),
      ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
      ...(m.uid !== undefined ? { uid: m.uid } : {}),
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.labels !== undefined ? { labels: m.labels } : {}),
      ...(annotations.length > 0 ? { annotations: Object.fromEntries(annotations) } : {}),
    },
    ...(pod.spec !== undefined ? { spec: slimSpec(pod.spec) } : {}),
    ...(phase !== undefined ? { status: { phase } } : {}),
  };
}
