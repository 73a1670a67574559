import { chmod, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import type { ContainerTracker } from '../node/container-tracker.js';
import { CONTAINER_ID } from '../node/cgroup-path.js';
import { recorderService, statusOfCode } from './recorder-api.js';

const MAX_KEY = 512;

function requireString(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value === '' || value.length > max)
    throw new AppError('ERR_CONFIG', `${field}: a non-empty string of at most ${max} characters is required`);
  return value;
}

function unary<Req, Res>(
  log: Logger,
  method: string,
  fn: (req: Req) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          const code = (err as { code?: string }).code;
          const status = statusOfCode(code);
          if (status === grpc.status.INTERNAL) log.error({ err, method }, 'recorder call failed');
          else log.debug({ code, method, reason: (err as Error).message }, 'recorder call refused');
          callback({ code: status, details: (err as Error).message ?? String(err) });
        },
      );
  };
}

interface TrackReq {
  containerId: string;
  key: string;
}

/** The Recorder service's handlers over a tracker; inputs are validated here, not in the tracker. */
export function recorderHandlers(tracker: ContainerTracker, log: Logger): grpc.UntypedServiceImplementation {
  return {
    Health: unary(log, 'Health', () => tracker.health()),
    Arm: unary(log, 'Arm', (req: { owner: string }) => ({
      armedOwners: tracker.arm(requireString(req.owner, 'owner', MAX_KEY)),
    })),
    Disarm: unary(log, 'Disarm', async (req: { owner: string }) => ({
      armedOwners: await tracker.disarm(requireString(req.owner, 'owner', MAX_KEY)),
    })),
    Track: unary(log, 'Track', async (req: TrackReq) => {
      if (typeof req.containerId !== 'string' || !CONTAINER_ID.test(req.containerId))
        throw new AppError(
          'ERR_CONFIG',
          'container_id: 64 hex digits required (the CRI id without its scheme)',
        );
      const r = await tracker.track(req.containerId, requireString(req.key, 'key', MAX_KEY));
      return { mountNamespace: r.mntns, method: r.method, already: r.already };
    }),
    Collect: unary(log, 'Collect', async (req: { key: string }) => {
      const r = await tracker.collect(requireString(req.key, 'key', MAX_KEY));
      return { syscalls: r.syscalls, arch: r.arch, containerIds: r.containerIds, warnings: r.warnings };
    }),
    Release: unary(log, 'Release', async (req: { key: string }) => {
      await tracker.release(requireString(req.key, 'key', MAX_KEY));
      return {};
    }),
  };
}

export interface RecorderServer {
  readonly socket: string;
  close(): Promise<void>;
}

/** Serves the tracker on a unix socket only its owner may use (0600); a stale socket file is replaced. */
export async function serveRecorder(
  socket: string,
  tracker: ContainerTracker,
  log: Logger,
): Promise<RecorderServer> {
  await mkdir(dirname(socket), { recursive: true, mode: 0o700 });
  await rm(socket, { force: true });
  const server = new grpc.Server();
  server.addService(recorderService().service, recorderHandlers(tracker, log));
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  await chmod(socket, 0o600);
  return {
    socket,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 2_000).unref();
      }),
  };
}
