import { Counter, type Registry } from 'prom-client';

/** The seed's error reasons: one per kind of failure, as metric label and Event reason. */
export const ERROR_REASONS = [
  'SeccompNotSupportedOnNode',
  'InvalidSeccompProfile',
  'CannotSaveSeccompProfile',
  'CannotRemoveSeccompProfile',
  'CannotUpdateSeccompProfile',
  'CannotUpdateNodeStatus',
] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];

export interface DaemonMetrics {
  readonly profileOperations: Counter<'operation'>;
  readonly profileErrors: Counter<'reason'>;
}

export function createDaemonMetrics(registry: Registry): DaemonMetrics {
  return {
    profileOperations: new Counter({
      name: 'security_profiles_operator_seccomp_profile_total',
      help: 'Counter about seccomp profile operations.',
      labelNames: ['operation'],
      registers: [registry],
    }),
    profileErrors: new Counter({
      name: 'security_profiles_operator_seccomp_profile_error_total',
      help: 'Counter about seccomp profile errors.',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
