import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** One registry per process, created by the entrypoint and handed to whatever registers metrics. */
export interface Metrics {
  readonly registry: Registry;
}

export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults ?? true) collectDefaultMetrics({ register: registry });
  return { registry };
}

export type AdmissionResult = 'patched' | 'unchanged' | 'skipped' | 'denied' | 'error' | 'bad_request';

export interface WebhookMetrics {
  readonly requests: Counter<'webhook' | 'result'>;
  readonly duration: Histogram<'webhook' | 'result'>;
  readonly certReloads: Counter<'result'>;
}

export function webhookMetrics({ registry }: Metrics): WebhookMetrics {
  return {
    requests: new Counter({
      name: 'webhook_admission_requests_total',
      help: 'AdmissionReviews answered, by webhook and result',
      labelNames: ['webhook', 'result'],
      registers: [registry],
    }),
    // Decisions take microseconds; the buckets reach down there so the histogram shows more than one bar.
    duration: new Histogram({
      name: 'webhook_admission_duration_seconds',
      help: 'Time from request body parsed to response ready, by webhook and result',
      labelNames: ['webhook', 'result'],
      buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
      registers: [registry],
    }),
    certReloads: new Counter({
      name: 'webhook_certificate_reloads_total',
      help: 'Serving certificate reloads from disk, by result',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}

export interface ManagerMetrics {
  readonly reconciles: Counter<'controller' | 'result'>;
  readonly certRenewals: Counter<'kind'>;
  readonly apiErrors: Counter<'code'>;
}

export function managerMetrics({ registry }: Metrics): ManagerMetrics {
  return {
    reconciles: new Counter({
      name: 'manager_reconciles_total',
      help: 'Reconcile passes, by controller and result',
      labelNames: ['controller', 'result'],
      registers: [registry],
    }),
    certRenewals: new Counter({
      name: 'manager_certificate_issued_total',
      help: 'Webhook certificates issued, by kind (ca, serving)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    apiErrors: new Counter({
      name: 'manager_api_errors_total',
      help: 'Failed API server calls, by HTTP status',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}
