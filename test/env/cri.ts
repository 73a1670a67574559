// A small promise-based CRI v1 client over @grpc/grpc-js, for the environment's
// own housekeeping (readiness, cleanup on `down`) and for tests.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const protoPath = join(dirname(fileURLToPath(import.meta.url)), 'cri.proto');

export interface PodSandbox {
  id: string;
  metadata?: { name: string; uid: string; namespace: string; attempt: number };
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface Container {
  id: string;
  podSandboxId: string;
  metadata?: { name: string; attempt: number };
  image?: { image: string };
  imageRef: string;
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerStatusResponse {
  status?: Omit<Container, 'podSandboxId'> & { exitCode: number; reason: string; message: string };
  info: Record<string, string>;
}

export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: string;
}

type Unary = (
  req: object,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => void;

let loaded: grpc.GrpcObject | undefined;
function api(): grpc.GrpcObject {
  loaded ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(protoPath, {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    }),
  );
  return (loaded.runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
}

export class CriClient {
  readonly #runtime: grpc.Client;
  readonly #images: grpc.Client;

  /** `endpoint` is `unix:///path/to.sock` (CRI convention) or a bare socket path. */
  constructor(
    endpoint: string,
    readonly timeoutMs = 10_000,
  ) {
    const target = endpoint.startsWith('unix://') ? endpoint : `unix://${endpoint}`;
    const Runtime = api().RuntimeService as grpc.ServiceClientConstructor;
    const Images = api().ImageService as grpc.ServiceClientConstructor;
    this.#runtime = new Runtime(target, grpc.credentials.createInsecure());
    this.#images = new Images(target, grpc.credentials.createInsecure());
  }

  #call<T>(client: grpc.Client, method: string, req: object): Promise<T> {
    const fn = (client as unknown as Record<string, Unary>)[method];
    if (!fn) throw new Error(`CRI method ${method} missing from cri.proto`);
    return new Promise((resolve, reject) => {
      fn.call(client, req, { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err)
          reject(
            Object.assign(new Error(`CRI ${method}: ${err.details || err.message}`), { code: err.code }),
          );
        else resolve(res as T);
      });
    });
  }

  version(): Promise<{
    version: string;
    runtimeName: string;
    runtimeVersion: string;
    runtimeApiVersion: string;
  }> {
    return this.#call(this.#runtime, 'Version', { version: 'v1' });
  }

  async status(): Promise<{ type: string; status: boolean; reason: string; message: string }[]> {
    const res = await this.#call<{
      status?: { conditions: { type: string; status: boolean; reason: string; message: string }[] };
    }>(this.#runtime, 'Status', {});
    return res.status?.conditions ?? [];
  }

  async listPodSandboxes(labelSelector: Record<string, string> = {}): Promise<PodSandbox[]> {
    const res = await this.#call<{ items: PodSandbox[] }>(this.#runtime, 'ListPodSandbox', {
      filter: { labelSelector },
    });
    return res.items;
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.#call(this.#runtime, 'StopPodSandbox', { podSandboxId: id });
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.#call(this.#runtime, 'RemovePodSandbox', { podSandboxId: id });
  }

  async listContainers(
    filter: { podSandboxId?: string; labelSelector?: Record<string, string> } = {},
  ): Promise<Container[]> {
    const res = await this.#call<{ containers: Container[] }>(this.#runtime, 'ListContainers', { filter });
    return res.containers;
  }

  containerStatus(id: string, verbose = false): Promise<ContainerStatusResponse> {
    return this.#call(this.#runtime, 'ContainerStatus', { containerId: id, verbose });
  }

  /** The container's init pid on the host, from containerd's verbose status info. */
  async containerPid(id: string): Promise<number> {
    const res = await this.containerStatus(id, true);
    const info = res.info.info;
    const pid = info ? (JSON.parse(info) as { pid?: number }).pid : undefined;
    if (!pid) throw new Error(`CRI ContainerStatus(${id}) has no pid in its verbose info`);
    return pid;
  }

  async listImages(): Promise<Image[]> {
    const res = await this.#call<{ images: Image[] }>(this.#images, 'ListImages', {});
    return res.images;
  }

  close(): void {
    this.#runtime.close();
    this.#images.close();
  }
}
