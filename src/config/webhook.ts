import { join } from 'node:path';
import { type LogLevel, parseLogLevel, parseNamespace, parsePort, parsePositive } from './common.js';

export const DEFAULT_CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';

export interface WebhookConfig {
  readonly host: string;
  readonly port: number;
  readonly certFile: string;
  readonly keyFile: string;
  readonly kubeconfig: string | undefined;
  readonly operatorNamespace: string;
  readonly logLevel: LogLevel;
  readonly certPollMs: number;
}

export interface WebhookFlags {
  host?: string | undefined;
  port?: string | undefined;
  'cert-dir'?: string | undefined;
  kubeconfig?: string | undefined;
  'operator-namespace'?: string | undefined;
  'log-level'?: string | undefined;
  'cert-poll-seconds'?: string | undefined;
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
    logLevel: parseLogLevel(flags['log-level'] ?? env['LOG_LEVEL']),
    certPollMs: parsePositive(flags['cert-poll-seconds'], '--cert-poll-seconds', 10) * 1000,
  };
}
