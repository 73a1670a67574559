import { METRICS_SERVICE } from './cert-plan.js';

export const SERVICE_MONITOR_NAME = 'security-profiles-operator-monitor';
export const SERVICE_MONITOR_GROUP = 'monitoring.coreos.com';
export const SERVICE_MONITOR_VERSION = 'v1';
export const SERVICE_MONITOR_PLURAL = 'servicemonitors';
/** A token of the namespace's `default` ServiceAccount, which manifests/base binds to spo-metrics-client. */
export const METRICS_TOKEN_SECRET = 'metrics-token';
/** Labels of Service `metrics` (manifests/base/daemon-daemonset.yaml): what the monitor selects. */
export const METRICS_SERVICE_LABELS = {
  'app.kubernetes.io/name': 'spod',
  'app.kubernetes.io/component': 'metrics',
} as const;

const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'seccomp-profiles-operator' };

/**
 * The Prometheus Operator ServiceMonitor for the daemons' metrics: Service `metrics`, port https, path
 * /metrics-spod, the server certificate checked against the CA in Secret metrics-server-cert, and a bearer
 * token that spo-metrics-client lets read the metrics.
 */
export function serviceMonitor(namespace: string, metricsCertSecret: string) {
  return {
    apiVersion: `${SERVICE_MONITOR_GROUP}/${SERVICE_MONITOR_VERSION}`,
    kind: 'ServiceMonitor',
    metadata: { name: SERVICE_MONITOR_NAME, namespace, labels: { ...MANAGED_BY } },
    spec: {
      namespaceSelector: { matchNames: [namespace] },
      selector: { matchLabels: { ...METRICS_SERVICE_LABELS } },
      endpoints: [
        {
          port: 'https',
          scheme: 'https',
          path: '/metrics-spod',
          interval: '30s',
          bearerTokenSecret: { name: METRICS_TOKEN_SECRET, key: 'token' },
          tlsConfig: {
            ca: { secret: { name: metricsCertSecret, key: 'ca.crt' } },
            serverName: `${METRICS_SERVICE}.${namespace}.svc`,
          },
        },
      ],
    },
  };
}

/** A long-lived token the apiserver fills in (type kubernetes.io/service-account-token). */
export function metricsTokenSecret(namespace: string) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/service-account-token',
    metadata: {
      name: METRICS_TOKEN_SECRET,
      namespace,
      labels: { ...MANAGED_BY },
      annotations: { 'kubernetes.io/service-account.name': 'default' },
    },
  };
}
