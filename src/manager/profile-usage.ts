import { OPERATOR_DIR } from '../daemon/profile-path.js';

/** The parts of a pod that can name a seccomp profile. */
export interface PodSeccompView {
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: {
    readonly securityContext?: { readonly seccompProfile?: SeccompRef };
    readonly containers?: readonly ContainerView[];
    readonly initContainers?: readonly ContainerView[];
    readonly ephemeralContainers?: readonly ContainerView[];
  };
}

interface SeccompRef {
  readonly type?: string;
  readonly localhostProfile?: string;
}

interface ContainerView {
  readonly securityContext?: { readonly seccompProfile?: SeccompRef };
}

const POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const LEGACY_PREFIX = 'localhost/';

/** A legacy seccomp annotation, pod-level or per container (kubelets before 1.25 read them). */
export function isSeccompAnnotation(key: string): boolean {
  return key === POD_ANNOTATION || key.startsWith(CONTAINER_ANNOTATION_PREFIX);
}

/** `<namespace>/<name>` for an operator profile path, or undefined for any other file. */
export function profileKeyFromLocalhost(path: string): string | undefined {
  const match = new RegExp(`^${OPERATOR_DIR}/([a-z0-9-]+)/([a-z0-9.-]+)\\.json$`).exec(path);
  return match === null ? undefined : `${match[1]}/${match[2]}`;
}

/**
 * Every operator profile a pod uses, as `<namespace>/<name>`: pod-level and per-container security contexts
 * (init and ephemeral containers too), and the legacy annotations that kubelets before 1.25 read.
 */
export function profilesUsedByPod(pod: PodSeccompView): Set<string> {
  const used = new Set<string>();
  const add = (path: string | undefined) => {
    const key = path === undefined ? undefined : profileKeyFromLocalhost(path);
    if (key !== undefined) used.add(key);
  };
  const fromRef = (ref: SeccompRef | undefined) => {
    if (ref?.type === 'Localhost') add(ref.localhostProfile);
  };
  fromRef(pod.spec?.securityContext?.seccompProfile);
  for (const c of [
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.initContainers ?? []),
    ...(pod.spec?.ephemeralContainers ?? []),
  ]) {
    fromRef(c.securityContext?.seccompProfile);
  }
  for (const [key, value] of Object.entries(pod.metadata?.annotations ?? {})) {
    if (isSeccompAnnotation(key) && value.startsWith(LEGACY_PREFIX)) add(value.slice(LEGACY_PREFIX.length));
  }
  return used;
}
