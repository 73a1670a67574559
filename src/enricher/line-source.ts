/** Receives lines in order; the source waits for the returned promise before reading more (backpressure). */
export type LineSink = (lines: readonly string[]) => void | Promise<void>;

/** Where audit lines come from: a followed log file or the kernel log. */
export interface LineSource {
  readonly kind: SourceKind;
  readonly path: string;
  /** Begins following; `onError` hears failures that stop the source. */
  start(sink: LineSink, onError: (err: unknown) => void): void;
  /**
   * Reads what the source holds now, without waiting for the next poll, and resolves once the sink has taken
   * it: a workload that just ended has its last records handed on before anyone asks what it did.
   */
  catchUp(): Promise<void>;
  stop(): Promise<void>;
}

export type SourceKind = 'audit' | 'syslog' | 'kmsg';
export type SourceChoice = SourceKind | 'auto';

export const SOURCE_CHOICES: readonly SourceChoice[] = ['auto', 'audit', 'syslog', 'kmsg'];

export interface SourcePaths {
  readonly audit: string;
  readonly syslog: string;
  readonly kmsg: string;
}

export const DEFAULT_SOURCE_PATHS: SourcePaths = {
  audit: '/var/log/audit/audit.log',
  syslog: '/var/log/syslog',
  kmsg: '/dev/kmsg',
};

/**
 * The source to follow. `auto` prefers auditd's log (auditd takes the records from the kernel, so kmsg has
 * none while it runs), then a syslog file, then the kernel log itself.
 */
export function chooseSource(
  choice: SourceChoice,
  paths: SourcePaths,
  exists: (path: string) => boolean,
): { kind: SourceKind; path: string } {
  if (choice !== 'auto') return { kind: choice, path: paths[choice] };
  for (const kind of ['audit', 'syslog'] as const) {
    if (exists(paths[kind])) return { kind, path: paths[kind] };
  }
  return { kind: 'kmsg', path: paths.kmsg };
}
