import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  type CertWatcher,
  certFilesIn,
  type KeyPair,
  readKeyPair,
  reloadServerCertificates,
  type SecureServer,
  TLS_MIN_VERSION,
} from '../webhook/tls-reloader.js';
import type { MetricsAuthorizer } from './metrics-auth.js';

/** The seed's path for the daemon's metrics, and the plain `/metrics` scrapers default to. */
export const METRICS_PATHS = ['/metrics-spod', '/metrics'] as const;

export interface DaemonServerDeps {
  readonly log: Logger;
  readonly registry: Registry;
  readonly ready: () => boolean;
  /** undefined serves metrics to anyone: only for local use (`--insecure-metrics`). */
  readonly authorizer: MetricsAuthorizer | undefined;
  /** Serve HTTPS (TLS 1.2 or newer) with this pair; undefined serves plain HTTP. */
  readonly tls?: KeyPair | undefined;
}

/** Probes and metrics of the node daemon. */
export function buildDaemonServer(deps: DaemonServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log,
    logController: new LogController({ disableRequestLogging: true }),
    ...(deps.tls ? { https: { ...deps.tls, minVersion: TLS_MIN_VERSION } } : {}),
  }) as unknown as FastifyInstance;
  app.get('/healthz', (_req, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', (_req, reply) =>
    deps.ready() ? reply.send({ status: 'ready' }) : reply.code(503).send({ status: 'not ready' }),
  );
  for (const path of METRICS_PATHS) {
    app.get(path, async (req, reply) => {
      if (deps.authorizer !== undefined) {
        let decision: Awaited<ReturnType<MetricsAuthorizer['check']>>;
        try {
          // The path asked for is the one checked: a role may grant /metrics-spod without /metrics.
          decision = await deps.authorizer.check(req.headers.authorization, path);
        } catch (err) {
          req.log.error({ err }, 'metrics authorization failed');
          return reply.code(503).send({ error: 'cannot check authorization' });
        }
        if (!decision.allowed) return reply.code(decision.status).send({ error: decision.reason });
      }
      return reply.header('content-type', deps.registry.contentType).send(await deps.registry.metrics());
    });
  }
  return app;
}

export interface DaemonListenOptions extends Omit<DaemonServerDeps, 'tls'> {
  readonly host: string;
  readonly port: number;
  /** A mounted `kubernetes.io/tls` Secret (tls.crt, tls.key): serve HTTPS and follow its rotation. */
  readonly certDir?: string | undefined;
  readonly certPollMs?: number;
}

export interface DaemonServer {
  readonly app: FastifyInstance;
  /** `https://host:port` or `http://host:port` */
  readonly address: string;
  close(): Promise<void>;
}

/** Listens; with a certificate directory, over HTTPS, taking a renewed pair without a restart. */
export async function startDaemonServer(options: DaemonListenOptions): Promise<DaemonServer> {
  const files = options.certDir !== undefined ? certFilesIn(options.certDir) : undefined;
  const tls = files !== undefined ? await readKeyPair(files) : undefined;
  const app = buildDaemonServer({ ...options, tls });
  const address = await app.listen({ host: options.host, port: options.port });
  let certs: CertWatcher | undefined;
  if (files !== undefined && tls !== undefined) {
    certs = reloadServerCertificates(app.server as unknown as SecureServer, files, tls, {
      log: options.log,
      ...(options.certPollMs !== undefined ? { intervalMs: options.certPollMs } : {}),
    });
  }
  return {
    app,
    address,
    async close() {
      certs?.close();
      await app.close();
    },
  };
}
