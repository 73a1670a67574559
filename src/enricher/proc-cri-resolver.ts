import { readFile } from 'node:fs/promises';
import { CriRuntime } from '../node/cri.js';
import { containerIdFromProcCgroup } from './cgroup.js';
import type { ContainerInfo, ContainerResolver } from './resolver.js';

/**
 * The enricher's own resolution: the container ID from /proc/<pid>/cgroup (needs hostPID), and the pod from
 * the CRI (the sandbox carries the pod's name, namespace and annotations), so no API server call is made.
 */
export class ProcCriResolver implements ContainerResolver {
  readonly #cri: CriRuntime;
  readonly #procBase: string;

  constructor(options: { criEndpoint: string; procBase?: string; timeoutMs?: number }) {
    const target = options.criEndpoint.startsWith('unix://')
      ? options.criEndpoint
      : `unix://${options.criEndpoint}`;
    this.#cri = new CriRuntime(target, options.timeoutMs);
    this.#procBase = options.procBase ?? '/proc';
  }

  async containerOfPid(pid: number): Promise<{ containerId: string } | undefined> {
    let text: string;
    try {
      text = await readFile(`${this.#procBase}/${pid}/cgroup`, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') return undefined;
      throw err;
    }
    const containerId = containerIdFromProcCgroup(text);
    return containerId === undefined ? undefined : { containerId };
  }

  async podOfContainer(containerId: string): Promise<ContainerInfo | undefined> {
    const c = await this.#cri.container(containerId);
    if (c === undefined) return undefined;
    const sandbox = await this.#cri.sandbox(c.podSandboxId);
    const namespace = sandbox?.metadata?.namespace ?? c.labels['io.kubernetes.pod.namespace'];
    const pod = sandbox?.metadata?.name ?? c.labels['io.kubernetes.pod.name'];
    const container = c.metadata?.name ?? c.labels['io.kubernetes.container.name'];
    if (!namespace || !pod || !container) return undefined;
    const podUid = sandbox?.metadata?.uid || c.labels['io.kubernetes.pod.uid'];
    return {
      namespace,
      pod,
      container,
      ...(podUid ? { podUid } : {}),
      podAnnotations: sandbox?.annotations ?? {},
    };
  }

  close(): void {
    this.#cri.close();
  }
}
