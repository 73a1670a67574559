import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from './proto-path.js';

/** The wire shapes of enricher.proto (proto-loader: camelCase keys, defaults filled in). */
export interface RecordingSelectorMessage {
  recording: string;
  namespace: string;
  pod: string;
  container: string;
  podUid: string;
}
export interface RecordedContainerMessage extends RecordingSelectorMessage {
  architectures: { arch: string; syscalls: string[] }[];
  records: string;
}
export interface GetSyscallsResponseMessage {
  containers: RecordedContainerMessage[];
}
export interface ResetSyscallsResponseMessage {
  reset: number;
}
export interface SyncResponseMessage {
  settled: boolean;
}

let service: grpc.ServiceClientConstructor | undefined;

/** The Enricher service definition, loaded once. */
export function enricherService(): grpc.ServiceClientConstructor {
  if (service === undefined) {
    const def = protoLoader.loadSync(protoPath(import.meta.url, 'enricher.proto'), {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      seccomp_profiles_operator: { enricher: { v1: { Enricher: grpc.ServiceClientConstructor } } };
    };
    service = pkg.seccomp_profiles_operator.enricher.v1.Enricher;
  }
  return service;
}

export const DEFAULT_ENRICHER_SOCKET = '/var/run/seccomp-profiles-operator/enricher.sock';
