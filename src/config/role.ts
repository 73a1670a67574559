import { UsageError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from './common.js';

/** The long-running roles: each takes the options below and runs until SIGTERM. */
export type Role = 'webhook' | 'manager' | 'daemon' | 'recorder' | 'enricher';

/** One port per role, so the containers of one pod (they share a network namespace) never collide. */
export const DEFAULT_PROFILING_PORTS: Readonly<Record<Role, number>> = {
  daemon: 6060,
  enricher: 6061,
  recorder: 6062,
  manager: 6063,
  webhook: 6064,
};

export const VERBOSITIES = [0, 1] as const;
export type Verbosity = (typeof VERBOSITIES)[number];

/** parseArgs options every role accepts. */
export const ROLE_OPTIONS = {
  'log-level': { type: 'string' },
  verbosity: { type: 'string' },
  'enable-profiling': { type: 'boolean' },
  'profiling-port': { type: 'string' },
} as const;

/** parseArgs options of the roles that read namespaced resources (manager, webhook, daemon). */
export const WATCH_NAMESPACE_OPTIONS = { 'watch-namespace': { type: 'string' } } as const;

export interface RoleFlags {
  'log-level'?: string | undefined;
  verbosity?: string | undefined;
  'enable-profiling'?: boolean | undefined;
  'profiling-port'?: string | undefined;
}

export interface ProfilingSettings {
  /** 0 picks a free port; the server logs the one it got. Always bound to 127.0.0.1. */
  readonly port: number;
}

export interface RoleSettings {
  readonly verbosity: Verbosity;
  readonly logLevel: LogLevel;
  /** Undefined: profiling is off. */
  readonly profiling: ProfilingSettings | undefined;
}

const VERBOSITY_LEVEL: Readonly<Record<Verbosity, LogLevel>> = { 0: 'info', 1: 'debug' };

function present(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

export function parseVerbosity(value: string, source: string): Verbosity {
  const n = /^\d$/.test(value) ? Number(value) : Number.NaN;
  if (!(VERBOSITIES as readonly number[]).includes(n)) {
    throw new UsageError(
      `${source} must be ${VERBOSITIES.join(' or ')} (0 logs at info, 1 at debug), not "${value}"`,
    );
  }
  return n as Verbosity;
}

function parseLevel(value: string, source: string): LogLevel {
  const level = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new UsageError(`${source} must be one of ${LOG_LEVELS.join(', ')}, not "${value}"`);
  return level as LogLevel;
}

function parseEnabled(value: string | undefined, source: string): boolean {
  if (!present(value)) return false;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`${source} must be true or false, not "${value}"`);
}

function parseProfilingPort(value: string, source: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n > 65535)
    throw new UsageError(`${source} must be a port number from 0 to 65535, not "${value}"`);
  return n;
}

/**
 * Logging and profiling of one role. Flags win over the environment; within each, an explicit log level wins
 * over the verbosity (so `--log-level warn --verbosity 1` logs at warn, and `--verbosity 1` beats LOG_LEVEL).
 */
export function roleSettings(role: Role, flags: RoleFlags, env: NodeJS.ProcessEnv): RoleSettings {
  const verbosityFlag = flags.verbosity;
  const verbosityEnv = env['SPO_VERBOSITY'];
  const verbosity =
    verbosityFlag !== undefined
      ? parseVerbosity(verbosityFlag, '--verbosity')
      : present(verbosityEnv)
        ? parseVerbosity(verbosityEnv, 'SPO_VERBOSITY')
        : 0;
  const levelFlag = flags['log-level'];
  const levelEnv = env['LOG_LEVEL'];
  const logLevel =
    levelFlag !== undefined
      ? parseLevel(levelFlag, '--log-level')
      : verbosityFlag === undefined && present(levelEnv)
        ? parseLevel(levelEnv, 'LOG_LEVEL')
        : VERBOSITY_LEVEL[verbosity];
  const enabled =
    flags['enable-profiling'] === true || parseEnabled(env['SPO_ENABLE_PROFILING'], 'SPO_ENABLE_PROFILING');
  const portFlag = flags['profiling-port'];
  const portEnv = env['SPO_PROFILING_PORT'];
  // Checked even when profiling is off, so a typo shows up before someone needs the profile.
  const port =
    portFlag !== undefined
      ? parseProfilingPort(portFlag, '--profiling-port')
      : present(portEnv)
        ? parseProfilingPort(portEnv, 'SPO_PROFILING_PORT')
        : DEFAULT_PROFILING_PORTS[role];
  return { verbosity, logLevel, profiling: enabled ? { port } : undefined };
}

/** DNS-1123 label check for --watch-namespace / SPO_WATCH_NAMESPACE; undefined means every namespace. */
export function watchNamespace(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const source = flag !== undefined ? '--watch-namespace' : 'SPO_WATCH_NAMESPACE';
  const value = flag ?? env['SPO_WATCH_NAMESPACE'];
  if (value === undefined || (flag === undefined && value === '')) return undefined;
  if (value.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)) {
    throw new UsageError(
      `${source} must be a namespace name (lowercase letters, digits and "-", at most 63), not "${value}"`,
    );
  }
  return value;
}

/** The usage lines for ROLE_OPTIONS, aligned at `width`. */
export function roleUsage(role: Role, width: number): string {
  const line = (flag: string, text: string) => `  ${flag.padEnd(width)}${text}`;
  return [
    line('--log-level LEVEL', 'trace|debug|info|warn|error|fatal (env LOG_LEVEL; wins over --verbosity)'),
    line('--verbosity 0|1', '0 logs at info, 1 at debug (env SPO_VERBOSITY, default 0)'),
    line('--enable-profiling', 'serve CPU profiles and heap snapshots on 127.0.0.1 (env'),
    line('', 'SPO_ENABLE_PROFILING=true): /debug/pprof/profile?seconds=N, /debug/pprof/heap'),
    line(
      '--profiling-port PORT',
      `(env SPO_PROFILING_PORT, default ${DEFAULT_PROFILING_PORTS[role]}; 0 picks a free port)`,
    ),
  ].join('\n');
}

/** The usage line for WATCH_NAMESPACE_OPTIONS. */
export function watchNamespaceUsage(width: number): string {
  return [
    `  ${'--watch-namespace NS'.padEnd(width)}single-namespace mode: watch and act on this namespace only`,
    `  ${''.padEnd(width)}(env SPO_WATCH_NAMESPACE; default every namespace)`,
  ].join('\n');
}
