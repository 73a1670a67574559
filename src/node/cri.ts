import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { AppError } from '../errors.js';
import { protoPath } from '../rpc/proto-path.js';

export interface CriContainerStatus {
  readonly state: string;
  readonly info: Readonly<Record<string, string>>;
}

export interface CriContainer {
  readonly id: string;
  readonly podSandboxId: string;
  readonly metadata?: { readonly name: string };
  readonly labels: Readonly<Record<string, string>>;
}

export interface CriSandbox {
  readonly id: string;
  readonly metadata?: { readonly name: string; readonly namespace: string; readonly uid: string };
  readonly annotations: Readonly<Record<string, string>>;
}

type Unary = (
  req: object,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => void;

let runtimeService: grpc.ServiceClientConstructor | undefined;
function service(): grpc.ServiceClientConstructor {
  if (runtimeService !== undefined) return runtimeService;
  const def = protoLoader.loadSync(protoPath(import.meta.url, 'cri.proto'), {
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } };
  };
  runtimeService = pkg.runtime.v1.RuntimeService;
  return runtimeService;
}

/** The CRI v1 RuntimeService calls container resolution needs. */
export class CriRuntime {
  readonly #client: grpc.Client;

  constructor(
    readonly endpoint: string,
    readonly timeoutMs = 5_000,
  ) {
    const Client = service();
    this.#client = new Client(endpoint, grpc.credentials.createInsecure());
  }

  #call<T>(method: string, req: object): Promise<T> {
    const fn = (this.#client as unknown as Record<string, Unary>)[method]!;
    return new Promise((resolve, reject) => {
      fn.call(this.#client, req, { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err === null) resolve(res as T);
        else
          reject(
            new AppError('ERR_CRI', `CRI ${method} on ${this.endpoint}: ${err.details || err.message}`, {
              cause: err,
            }),
          );
      });
    });
  }

  version(): Promise<{ runtimeName: string; runtimeVersion: string }> {
    return this.#call('Version', { version: 'v1' });
  }

  async containerStatus(id: string): Promise<CriContainerStatus> {
    const res = await this.#call<{ status?: { state?: string }; info?: Record<string, string> }>(
      'ContainerStatus',
      { containerId: id, verbose: true },
    );
    return { state: res.status?.state ?? 'CONTAINER_UNKNOWN', info: res.info ?? {} };
  }

  async container(id: string): Promise<CriContainer | undefined> {
    const { containers } = await this.#call<{ containers: CriContainer[] }>('ListContainers', {
      filter: { id },
    });
    return containers.find((c) => c.id === id);
  }

  async sandbox(id: string): Promise<CriSandbox | undefined> {
    const { items } = await this.#call<{ items: CriSandbox[] }>('ListPodSandbox', { filter: { id } });
    return items.find((s) => s.id === id);
  }

  close(): void {
    this.#client.close();
  }
}
