import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ErrorCode } from '../errors.js';
import { protoPath } from './proto-path.js';

let definition: grpc.ServiceClientConstructor | undefined;

/** The Recorder service from recorder.proto (loaded once; field names camelCase). */
export function recorderService(): grpc.ServiceClientConstructor {
  if (definition !== undefined) return definition;
  const def = protoLoader.loadSync(protoPath(import.meta.url, 'recorder.proto'), {
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    seccompctl: { recorder: { v1: { Recorder: grpc.ServiceClientConstructor } } };
  };
  definition = pkg.seccompctl.recorder.v1.Recorder;
  return definition;
}

/** One table both ways, so a caller's `err.code` is the recorder's. */
const STATUS_OF: Partial<Record<ErrorCode, grpc.status>> = {
  ERR_NOT_RECORDED: grpc.status.NOT_FOUND,
  ERR_CGROUP_NOT_FOUND: grpc.status.FAILED_PRECONDITION,
  ERR_CONFIG: grpc.status.INVALID_ARGUMENT,
  ERR_RECORDER_CLOSED: grpc.status.UNAVAILABLE,
};

export function statusOfCode(code: string | undefined): grpc.status {
  return STATUS_OF[code as ErrorCode] ?? grpc.status.INTERNAL;
}

export function codeOfStatus(status: grpc.status): ErrorCode {
  for (const [code, s] of Object.entries(STATUS_OF)) if (s === status) return code as ErrorCode;
  return 'ERR_RPC';
}

/** Where daemon and recorder meet by default (a shared emptyDir in the DaemonSet pod). */
export const DEFAULT_RECORDER_SOCKET = '/var/run/seccompctl/recorder.sock';
