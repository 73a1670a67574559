import { hostname } from 'node:os';
import { AppError } from '../errors.js';
import { DEFAULT_CERT_POLICY } from '../manager/cert-plan.js';
import { WEBHOOK_SERVICE_NAME, webhookConfigurationName } from '../webhook/configuration.js';
import { parseNamespace, parsePort, parsePositive } from './common.js';
import { type RoleFlags, type RoleSettings, roleSettings, watchNamespace } from './role.js';

export interface ManagerConfig extends RoleSettings {
  readonly kubeconfig: string | undefined;
  readonly operatorNamespace: string;
  /** Single-namespace mode: every namespaced watch is limited to it, and no namespace is labelled. */
  readonly watchNamespace: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly leaderElect: boolean;
  readonly leaseName: string;
  readonly identity: string;
  readonly webhookConfiguration: string;
  readonly certHosts: readonly string[];
  readonly certDir: string | undefined;
  readonly certCheckMs: number;
  readonly caValidDays: number;
  readonly servingValidDays: number;
  readonly servingRenewBeforeDays: number;
}

export interface ManagerFlags extends RoleFlags {
  kubeconfig?: string | undefined;
  'operator-namespace'?: string | undefined;
  'watch-namespace'?: string | undefined;
  host?: string | undefined;
  port?: string | undefined;
  'leader-elect'?: string | undefined;
  'lease-name'?: string | undefined;
  'webhook-configuration'?: string | undefined;
  'service-name'?: string | undefined;
  'cert-host'?: string[] | undefined;
  'cert-dir'?: string | undefined;
  'cert-check-seconds'?: string | undefined;
  'ca-valid-days'?: string | undefined;
  'serving-valid-days'?: string | undefined;
  'serving-renew-before-days'?: string | undefined;
}

function parseBool(value: string | undefined, flag: string, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new AppError('ERR_CONFIG', `${flag} must be true or false, not "${value}"`);
}

/** Flags win over environment, environment over defaults. Pure: the caller passes process.env. */
export function managerConfig(flags: ManagerFlags, env: NodeJS.ProcessEnv): ManagerConfig {
  const operatorNamespace = parseNamespace(
    flags['operator-namespace'] ?? env['OPERATOR_NAMESPACE'],
    'operator namespace',
  );
  const watched = watchNamespace(flags['watch-namespace'], env);
  const service = flags['service-name'] ?? WEBHOOK_SERVICE_NAME;
  const servingValidDays = parsePositive(
    flags['serving-valid-days'],
    '--serving-valid-days',
    DEFAULT_CERT_POLICY.servingValidDays,
  );
  const servingRenewBeforeDays = parsePositive(
    flags['serving-renew-before-days'],
    '--serving-renew-before-days',
    Math.min(DEFAULT_CERT_POLICY.servingRenewBeforeDays, servingValidDays / 3),
  );
  if (servingRenewBeforeDays >= servingValidDays) {
    throw new AppError('ERR_CONFIG', '--serving-renew-before-days must be less than --serving-valid-days');
  }
  return {
    kubeconfig: flags.kubeconfig ?? env['KUBECONFIG'],
    operatorNamespace,
    ...roleSettings('manager', flags, env),
    watchNamespace: watched,
    host: flags.host ?? '0.0.0.0',
    port: parsePort(flags.port ?? env['MANAGER_PORT'], '--port', 8080),
    leaderElect: parseBool(flags['leader-elect'], '--leader-elect', true),
    leaseName: flags['lease-name'] ?? 'seccomp-profiles-operator-manager',
    identity: env['POD_NAME'] ?? `${hostname()}-${process.pid}`,
    webhookConfiguration: flags['webhook-configuration'] ?? webhookConfigurationName(watched),
    certHosts: [
      `${service}.${operatorNamespace}.svc`,
      `${service}.${operatorNamespace}.svc.cluster.local`,
      ...(flags['cert-host'] ?? []),
    ],
    certDir: flags['cert-dir'],
    certCheckMs: parsePositive(flags['cert-check-seconds'], '--cert-check-seconds', 300) * 1000,
    caValidDays: parsePositive(flags['ca-valid-days'], '--ca-valid-days', DEFAULT_CERT_POLICY.caValidDays),
    servingValidDays,
    servingRenewBeforeDays,
  };
}
