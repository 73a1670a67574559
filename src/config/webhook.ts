import { join } from 'node:path';
import { parseNamespace, parsePort, parsePositive } from './common.js';
import { type RoleFlags, type RoleSettings, roleSettings, watchNamespace } from './role.js';

export const DEFAULT_CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';

export interface WebhookConfig extends RoleSettings {
  readonly host: string;
  readonly port: number;
  readonly certFile: string;
  readonly keyFile: string;
  readonly kubeconfig: string | undefined;
  readonly operatorNamespace: string;
  readonly certPollMs: number;
  /** Single-namespace mode: the only namespace whose pods are mutated. */
  readonly watchNamespace: string | undefined;
}

export interface WebhookFlags extends RoleFlags {
  host?: string | undefined;
  port?: string | undefined;
  'cert-dir'?: string | undefined;
  kubeconfig?: string | undefined;
  'operator-namespace'?: string | undefined;
  'cert-poll-seconds'?: string | undefined;
  'watch-namespace'?: string | undefined;
}

/** Flags win over environment, environment over defaults. Pure: the caller passes process.env. */
export function webhookConfig(flags: WebhookFlags, env: NodeJS.ProcessEnv): WebhookConfig {
  const certDir = flags['cert-dir'] ?? env['WEBHOOK_CERT_DIR'] ?? DEFAULT_CERT_DIR;
  return {
    host: flags.host ?? env['WEBHOOK_HOST'] ?? '0.0.0.0',
    port: parsePort(flags.port ?? env['WEBHOOK_PORT'], '--port', 9443),
    certFile: join(certDir, 'tls.crt'),
    keyFile: join(certDir, 'tls.key'),
    kubeconfig: flags.kubeconfig ?? env['KUBECONFIG'],
    operatorNamespace: parseNamespace(
      flags['operator-namespace'] ?? env['OPERATOR_NAMESPACE'],
      'operator namespace',
    ),
    ...roleSettings('webhook', flags, env),
    certPollMs: parsePositive(flags['cert-poll-seconds'], '--cert-poll-seconds', 10) * 1000,
    watchNamespace: watchNamespace(flags['watch-namespace'], env),
  };
}
