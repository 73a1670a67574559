// grpc-js and protobufjs cost the daemon about 4.5 MB of RSS (bench/daemon) on every node where a recorder or
// the enricher is configured, yet the daemon calls them only while a pod is being recorded, which most nodes
// never see. These stand-ins load the client at the first call, and then keep it. The recorder's first call is
// the exception that cannot wait: loading takes 120-200 ms, and the container's runtime starts on its own
// clock, so `preload` lets the daemon load it at start-up where a recorder is configured.
import { AppError } from '../errors.js';
import type { EnricherClient } from '../rpc/enricher-client.js';
import type { RecorderClient } from '../rpc/recorder-client.js';
import type { RecordingControllerDeps } from './recording-controller.js';

type RecorderCalls = NonNullable<RecordingControllerDeps['recorder']>;
type EnricherCalls = NonNullable<RecordingControllerDeps['enricher']>;

interface Closable {
  /** Closes the client if one was ever made. */
  close(): void;
}

interface Preloadable {
  /** Loads and makes the client now, without dialling (grpc-js connects at the first call). */
  preload(): void;
}

/** Makes a client on first use; `close` before any use makes none, and a call after `close` makes none either. */
function lazily<C extends { close(): void }>(make: () => Promise<C>) {
  let client: Promise<C> | undefined;
  let closed = false;
  return {
    get: (): Promise<C> => {
      // A client dialled now would never be closed: fail like a closed gRPC channel does.
      if (closed && client === undefined) return Promise.reject(new AppError('ERR_RPC', 'client closed'));
      client ??= make();
      return client;
    },
    preload: (): void => {
      if (closed || client !== undefined) return;
      client = make();
      // a failed import is reported to the first caller, who gets this same promise
      client.catch(() => undefined);
    },
    close: (): void => {
      if (closed) return;
      closed = true;
      // a client whose import failed has nothing to close; the failure was reported to its caller
      void client?.then((c) => c.close()).catch(() => undefined);
    },
  };
}

/** `seccompctl recorder` on `socket`, dialled on the first recording. */
export function lazyRecorderClient(socket: string): RecorderCalls & Closable & Preloadable {
  const c = lazily(async (): Promise<RecorderClient> => {
    const { RecorderClient } = await import('../rpc/recorder-client.js');
    return new RecorderClient(socket);
  });
  return {
    arm: async (owner) => (await c.get()).arm(owner),
    disarm: async (owner) => (await c.get()).disarm(owner),
    track: async (containerId, key) => (await c.get()).track(containerId, key),
    collect: async (key) => (await c.get()).collect(key),
    release: async (key) => (await c.get()).release(key),
    close: c.close,
    preload: c.preload,
  };
}

/** `seccompctl enricher` on `socket`, dialled on the first `recorder: logs` recording that ends. */
export function lazyEnricherClient(socket: string): EnricherCalls & Closable {
  const c = lazily(async (): Promise<EnricherClient> => {
    const { EnricherClient } = await import('../rpc/enricher-client.js');
    return new EnricherClient(socket);
  });
  return {
    sync: async () => (await c.get()).sync(),
    getSyscalls: async (selector) => (await c.get()).getSyscalls(selector),
    resetSyscalls: async (selector) => (await c.get()).resetSyscalls(selector),
    close: c.close,
  };
}
