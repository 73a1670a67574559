import * as grpc from '@grpc/grpc-js';
import { AppError } from '../errors.js';
import { codeOfStatus, recorderService } from './recorder-api.js';

export interface RecorderHealth {
  readonly attached: boolean;
  readonly trackedContainers: number;
  readonly armedOwners: number;
  readonly collectedKeys: number;
}

export interface Collected {
  readonly syscalls: string[];
  readonly arch: string;
  readonly containerIds: string[];
  readonly warnings: string[];
}

type Unary = (
  req: object,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => void;

/** The daemon's side of the recorder socket. Errors are AppErrors with the recorder's code. */
export class RecorderClient {
  readonly #client: grpc.Client;

  constructor(
    readonly socket: string,
    readonly timeoutMs = 10_000,
  ) {
    const Client = recorderService();
    this.#client = new Client(`unix://${socket}`, grpc.credentials.createInsecure());
  }

  #call<T>(method: string, req: object): Promise<T> {
    const fn = (this.#client as unknown as Record<string, Unary>)[method]!;
    return new Promise((resolve, reject) => {
      fn.call(this.#client, req, { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err === null) resolve(res as T);
        else reject(new AppError(codeOfStatus(err.code), err.details || err.message, { cause: err }));
      });
    });
  }

  health(): Promise<RecorderHealth> {
    return this.#call('Health', {});
  }
  arm(owner: string): Promise<{ armedOwners: number }> {
    return this.#call('Arm', { owner });
  }
  disarm(owner: string): Promise<{ armedOwners: number }> {
    return this.#call('Disarm', { owner });
  }
  track(
    containerId: string,
    key: string,
  ): Promise<{ mountNamespace: number; method: string; already: boolean }> {
    return this.#call('Track', { containerId, key });
  }
  collect(key: string): Promise<Collected> {
    return this.#call('Collect', { key });
  }
  async release(key: string): Promise<void> {
    await this.#call('Release', { key });
  }

  close(): void {
    this.#client.close();
  }
}
