import { Counter, type Registry } from 'prom-client';

export type LineResult = 'seccomp' | 'ignored' | 'malformed';
/** What became of a seccomp record */
export type RecordResult = 'attributed' | 'unattributed' | 'dropped' | 'error';

export interface EnricherMetrics {
  readonly audit: Counter<'node' | 'namespace' | 'pod' | 'container' | 'executable' | 'syscall'>;
  readonly lines: Counter<'source' | 'result'>;
  readonly records: Counter<'result'>;
}

export function createEnricherMetrics(registry: Registry): EnricherMetrics {
  return {
    audit: new Counter({
      name: 'security_profiles_operator_seccomp_profile_audit_total',
      help: 'Seccomp audit records the log enricher attributed to a container, by pod, container, executable and syscall',
      labelNames: ['node', 'namespace', 'pod', 'container', 'executable', 'syscall'],
      registers: [registry],
    }),
    lines: new Counter({
      name: 'enricher_lines_total',
      help: 'Log lines read, by source and result (seccomp, ignored: another kind of line, malformed)',
      labelNames: ['source', 'result'],
      registers: [registry],
    }),
    records: new Counter({
      name: 'enricher_records_total',
      help: 'Seccomp records by outcome (attributed to a container, unattributed: host process or exited, dropped: backlog full)',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
