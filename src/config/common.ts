import { AppError } from '../errors.js';

export const DEFAULT_OPERATOR_NAMESPACE = 'security-profiles-operator';
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function parsePort(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new AppError('ERR_CONFIG', `${flag} must be a port number, not "${value}"`);
  return n;
}

export function parsePositive(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new AppError('ERR_CONFIG', `${flag} must be a positive number, not "${value}"`);
  return n;
}

/** DNS-1123 label: what a namespace name must be. */
export function parseNamespace(value: string | undefined, what: string): string {
  const ns = value && value !== '' ? value : DEFAULT_OPERATOR_NAMESPACE;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63) {
    throw new AppError('ERR_CONFIG', `${what} "${ns}" is not a valid namespace name`);
  }
  return ns;
}
