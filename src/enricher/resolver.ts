/** Who a container is, as the audit output and the recording store name it. */
export interface ContainerInfo {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** The pod's uid when the runtime tells it: a pod made again under the same name is another recording */
  readonly podUid?: string;
  /** The pod's annotations: `io.containers.trace-logs/<container>` marks a container being recorded */
  readonly podAnnotations: Readonly<Record<string, string>>;
}

/** pid -> container -> pod. Node-side resolution (CRI, cgroups, /proc) sits behind this. */
export interface ContainerResolver {
  /** undefined when the pid is not in a container, or has exited */
  containerOfPid(pid: number): Promise<{ containerId: string } | undefined>;
  /** undefined when the runtime does not know the container (yet) */
  podOfContainer(containerId: string): Promise<ContainerInfo | undefined>;
  close?(): void;
}

export const TRACE_LOGS_ANNOTATION_PREFIX = 'io.containers.trace-logs/';

/** The recording a container's audit records feed, from the pod annotation the recording webhook sets. */
export function recordingOf(info: ContainerInfo): string | undefined {
  const v = info.podAnnotations[TRACE_LOGS_ANNOTATION_PREFIX + info.container];
  return v === undefined || v === '' ? undefined : v;
}
