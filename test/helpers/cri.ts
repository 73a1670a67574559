// CRI access for tests: the client and small host-side facts about containers.
import { readlinkSync } from 'node:fs';
import { CriClient } from '../env/cri.js';
import { criEndpoint } from '../env/layout.js';

export { CriClient } from '../env/cri.js';
export type { Container, ContainerStatusResponse, Image, PodSandbox } from '../env/cri.js';

/** A client for `SPO_CRI_ENDPOINT`, else the dev environment's containerd. Close it when done. */
export function criClient(endpoint = process.env.SPO_CRI_ENDPOINT ?? criEndpoint): CriClient {
  return new CriClient(endpoint);
}

/** `containerd://<id>` (a pod status containerID) -> `<id>`. */
export function bareContainerId(containerID: string): string {
  const i = containerID.indexOf('://');
  return i < 0 ? containerID : containerID.slice(i + 3);
}

/** The mount namespace of a host pid, as `mnt:[<inode>]`. */
export function mountNamespaceOf(pid: number | 'self'): string {
  return readlinkSync(`/proc/${pid}/ns/mnt`);
}

/** The host pid of a pod's container (by name, default the first), from its status containerID and CRI. */
export async function containerHostPid(
  cri: CriClient,
  pod: { status?: { containerStatuses?: { name: string; containerID?: string }[] } },
  containerName?: string,
): Promise<number> {
  const statuses = pod.status?.containerStatuses ?? [];
  const status = containerName ? statuses.find((s) => s.name === containerName) : statuses[0];
  if (!status?.containerID)
    throw new Error(`no containerID for container ${containerName ?? '(first)'} in pod status`);
  return cri.containerPid(bareContainerId(status.containerID));
}
