import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { WebhookMetrics } from '../metrics/index.js';
import { buildApp } from './app.js';
import type { AdmissionState } from './state.js';
import {
  type CertFiles,
  type CertWatcher,
  readKeyPair,
  TLS_MIN_VERSION,
  watchCertificates,
} from './tls-reloader.js';

export interface WebhookServerOptions {
  readonly host: string;
  readonly port: number;
  readonly certs: CertFiles;
  readonly state: AdmissionState;
  readonly log: Logger;
  readonly metrics: WebhookMetrics;
  readonly registry: Registry;
  readonly operatorNamespace: string;
  readonly watchNamespace?: string | undefined;
  readonly certPollMs?: number;
}

export interface WebhookServer {
  readonly app: FastifyInstance;
  readonly port: number;
  readonly certs: CertWatcher;
  close(): Promise<void>;
}

/** Reads the serving pair, listens over HTTPS and swaps in rotated certificates without a restart. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const tls = await readKeyPair(options.certs);
  const app = buildApp({ ...options, tls });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const server = app.server as unknown as { setSecureContext(o: object): void };
  const certs = watchCertificates(
    options.certs,
    tls,
    (pair) => server.setSecureContext({ ...pair, minVersion: TLS_MIN_VERSION }),
    {
      log: options.log,
      ...(options.certPollMs !== undefined ? { intervalMs: options.certPollMs } : {}),
      onResult: (ok) => options.metrics.certReloads.inc({ result: ok ? 'ok' : 'error' }),
    },
  );
  options.log.info({ port, host: options.host }, 'webhook listening');
  return {
    app,
    port,
    certs,
    async close() {
      certs.close();
      await app.close();
    },
  };
}
