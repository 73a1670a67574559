import { Counter, type Registry } from 'prom-client';

export interface RecordingMetrics {
  /** SPO's metric name and labels: one increment per container whose mount namespace is being recorded. */
  readonly bpf: Counter<'node' | 'mount_namespace' | 'profile'>;
}

export function createRecordingMetrics(registry: Registry): RecordingMetrics {
  return {
    bpf: new Counter({
      name: 'security_profiles_operator_seccomp_profile_bpf_total',
      help: 'Counter about seccomp profile bpf recordings: containers tracked by mount namespace.',
      labelNames: ['node', 'mount_namespace', 'profile'],
      registers: [registry],
    }),
  };
}
