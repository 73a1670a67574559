import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { AppError } from '../errors.js';
import { containerIdFromProcCgroup } from './cgroup.js';
import { protoPath } from '../rpc/proto-path.js';
import type { ContainerInfo, ContainerResolver } from './resolver.js';

interface CriContainer {
  id: string;
  podSandboxId: string;
  metadata?: { name: string };
  labels: Record<string, string>;
}
interface CriSandbox {
  id: string;
  metadata?: { name: string; namespace: string; uid: string };
  annotations: Record<string, string>;
}

type Unary = (
  req: object,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => void;

let runtimeService: grpc.ServiceClientConstructor | undefined;
function loadRuntimeService(): grpc.ServiceClientConstructor {
  if (runtimeService === undefined) {
    const def = protoLoader.loadSync(protoPath(import.meta.url, 'cri-pods.proto'), {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } };
    };
    runtimeService = pkg.runtime.v1.RuntimeService;
  }
  return runtimeService;
}

/**
 * The enricher's own resolution: the container ID from /proc/<pid>/cgroup (needs hostPID), and the pod from
 * the CRI (the sandbox carries the pod's name, namespace and annotations), so no API server call is made.
 */
export class ProcCriResolver implements ContainerResolver {
  readonly #client: grpc.Client;
  readonly #procBase: string;
  readonly #timeoutMs: number;

  constructor(options: { criEndpoint: string; procBase?: string; timeoutMs?: number }) {
    const target = options.criEndpoint.startsWith('unix://')
      ? options.criEndpoint
      : `unix://${options.criEndpoint}`;
    this.#client = new (loadRuntimeService())(target, grpc.credentials.createInsecure());
    this.#procBase = options.procBase ?? '/proc';
    this.#timeoutMs = options.timeoutMs ?? 5_000;
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
    const { containers } = await this.#call<{ containers: CriContainer[] }>('ListContainers', {
      filter: { id: containerId },
    });
    const c = containers.find((x) => x.id === containerId);
    if (c === undefined) return undefined;
    const { items } = await this.#call<{ items: CriSandbox[] }>('ListPodSandbox', {
      filter: { id: c.podSandboxId },
    });
    const sandbox = items.find((x) => x.id === c.podSandboxId);
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
    this.#client.close();
  }

  #call<T>(method: string, req: object): Promise<T> {
    const fn = (this.#client as unknown as Record<string, Unary>)[method]!;
    return new Promise((resolve, reject) => {
      fn.call(this.#client, req, { deadline: Date.now() + this.#timeoutMs }, (err, res) => {
        if (err)
          reject(new AppError('ERR_CRI', `CRI ${method}: ${err.details || err.message}`, { cause: err }));
        else resolve(res as T);
      });
    });
  }
}
