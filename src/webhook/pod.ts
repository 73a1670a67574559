// The few pod fields the decisions read. Admission hands us whatever JSON the client sent, so every field is
// optional and the decisions check shapes before they use them.

export interface SeccompProfileRef {
  type?: string;
  localhostProfile?: string;
}

export interface Container {
  name?: string;
  image?: string;
  securityContext?: { seccompProfile?: SeccompProfileRef | null; privileged?: boolean } | null;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    containers?: Container[];
    initContainers?: Container[];
  };
}

export interface PodContainer {
  readonly container: Container;
  /** JSON pointer to the container in the pod, e.g. /spec/initContainers/0 */
  readonly pointer: string;
  readonly init: boolean;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Regular then init containers; ephemeral containers cannot carry a seccomp profile of their own here. */
export function podContainers(pod: Pod): PodContainer[] {
  const out: PodContainer[] = [];
  // Plain loops, no per-call closures: this runs for every admitted pod.
  for (const field of FIELDS) {
    const list: unknown = pod.spec?.[field];
    if (!Array.isArray(list)) continue;
    for (let i = 0; i < list.length; i++) {
      const container: unknown = list[i];
      if (isObject(container)) {
        out.push({
          container: container as Container,
          pointer: `/spec/${field}/${i}`,
          init: field === 'initContainers',
        });
      }
    }
  }
  return out;
}

const FIELDS = ['containers', 'initContainers'] as const;

export function labelsOf(pod: Pod): Record<string, string> | undefined {
  const labels = pod.metadata?.labels;
  return isObject(labels) ? (labels as Record<string, string>) : undefined;
}
