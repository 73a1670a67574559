import * as grpc from '@grpc/grpc-js';
import { AppError } from '../errors.js';
import {
  enricherService,
  type GetSyscallsResponseMessage,
  type RecordedContainerMessage,
  type RecordingSelectorMessage,
  type ResetSyscallsResponseMessage,
  type SyncResponseMessage,
} from './enricher-service.js';

type Unary = (
  req: object,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => void;

/** The recording controller's side of the enricher API. */
export class EnricherClient {
  readonly #client: grpc.Client;

  constructor(
    socketPath: string,
    readonly timeoutMs = 10_000,
  ) {
    this.#client = new (enricherService())(`unix://${socketPath}`, grpc.credentials.createInsecure());
  }

  /** The recorded containers of the selection; [] when nothing was recorded. */
  async getSyscalls(selector: Partial<RecordingSelectorMessage>): Promise<RecordedContainerMessage[]> {
    try {
      const res = await this.#call<GetSyscallsResponseMessage>('GetSyscalls', selector);
      return res.containers;
    } catch (err) {
      if (
        (err as AppError).cause &&
        ((err as AppError).cause as grpc.ServiceError).code === grpc.status.NOT_FOUND
      )
        return [];
      throw err;
    }
  }

  async resetSyscalls(selector: Partial<RecordingSelectorMessage>): Promise<number> {
    return (await this.#call<ResetSyscallsResponseMessage>('ResetSyscalls', selector)).reset;
  }

  /** Has the enricher read its source to the end and record what it read; false: some records still wait. */
  async sync(): Promise<boolean> {
    return (await this.#call<SyncResponseMessage>('Sync', {})).settled;
  }

  close(): void {
    this.#client.close();
  }

  #call<T>(method: string, req: object): Promise<T> {
    const fn = (this.#client as unknown as Record<string, Unary>)[method]!;
    return new Promise((resolve, reject) => {
      fn.call(this.#client, req, { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err)
          reject(
            new AppError('ERR_RPC', `enricher ${method}: ${err.details || err.message}`, { cause: err }),
          );
        else resolve(res as T);
      });
    });
  }
}
