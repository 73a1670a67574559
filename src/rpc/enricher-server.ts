import { chmod, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import type { RecordingSelector, RecordingStore } from '../enricher/recording-store.js';
import {
  enricherService,
  type GetSyscallsResponseMessage,
  type RecordingSelectorMessage,
  type ResetSyscallsResponseMessage,
  type SyncResponseMessage,
} from './enricher-service.js';

const DNS_1123 = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const UID = /^[0-9a-fA-F-]{1,64}$/;

/** A validated selector, or the reason it is not one. */
export function validSelector(m: Partial<RecordingSelectorMessage> | undefined): RecordingSelector | string {
  const recording = m?.recording ?? '';
  const namespace = m?.namespace ?? '';
  const pod = m?.pod ?? '';
  const container = m?.container ?? '';
  const podUid = m?.podUid ?? '';
  if (!DNS_1123.test(recording)) return 'recording must be a DNS-1123 name';
  if (!DNS_1123.test(namespace)) return 'namespace must be a DNS-1123 name';
  if (pod !== '' && !DNS_1123.test(pod)) return 'pod must be empty or a DNS-1123 name';
  if (container !== '' && !DNS_1123.test(container)) return 'container must be empty or a DNS-1123 name';
  if (podUid !== '' && !UID.test(podUid)) return 'pod_uid must be empty or a pod uid';
  return {
    recording,
    namespace,
    ...(pod ? { pod } : {}),
    ...(container ? { container } : {}),
    ...(podUid ? { podUid } : {}),
  };
}

type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

/** Serves the recording store on a unix socket that only the owner (root) may connect to. */
export async function serveEnricher(options: {
  socketPath: string;
  store: RecordingStore;
  log: Logger;
  /** Catches up with the audit source; resolves false when records still wait on a container. */
  sync?: () => Promise<boolean>;
}): Promise<{ close(): Promise<void> }> {
  const { socketPath, store, log, sync } = options;
  // sun_path holds 108 bytes with its NUL; a longer path would be cut silently by the bind.
  if (Buffer.byteLength(socketPath) > 107)
    throw new AppError('ERR_CONFIG', `socket path too long for a unix socket (max 107 bytes): ${socketPath}`);
  const getSyscalls: Handler<RecordingSelectorMessage, GetSyscallsResponseMessage> = (call, callback) => {
    const selector = validSelector(call.request);
    if (typeof selector === 'string') {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: selector });
      return;
    }
    const found = store.select(selector);
    if (found.length === 0) {
      callback({ code: grpc.status.NOT_FOUND, details: 'no syscalls recorded for the selection' });
      return;
    }
    callback(null, {
      containers: found.map((c) => ({
        ...c.key,
        podUid: c.key.podUid ?? '',
        architectures: [...c.syscalls].map(([arch, syscalls]) => ({ arch, syscalls: [...syscalls] })),
        records: String(c.records),
      })),
    });
  };
  const resetSyscalls: Handler<RecordingSelectorMessage, ResetSyscallsResponseMessage> = (call, callback) => {
    const selector = validSelector(call.request);
    if (typeof selector === 'string') {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: selector });
      return;
    }
    const reset = store.reset(selector);
    log.info({ ...selector, reset }, 'recorded syscalls reset');
    callback(null, { reset });
  };

  const syncHandler: Handler<object, SyncResponseMessage> = (_call, callback) => {
    if (sync === undefined) {
      callback(null, { settled: true });
      return;
    }
    sync().then(
      (settled) => callback(null, { settled }),
      (err: unknown) => {
        log.warn({ err }, 'cannot catch up with the audit source');
        callback({
          code: grpc.status.UNAVAILABLE,
          details: `cannot read the audit source: ${(err as Error).message}`,
        });
      },
    );
  };

  const server = new grpc.Server();
  server.addService(enricherService().service, { getSyscalls, resetSyscalls, sync: syncHandler });
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 });
  // A socket left by a crashed predecessor would make bind fail with EADDRINUSE.
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    );
  });
  await chmod(socketPath, 0o600);
  log.info({ socket: socketPath }, 'enricher api listening');
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
