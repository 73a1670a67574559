import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { MetricsAuthorizer } from './metrics-auth.js';

export interface DaemonServerDeps {
  readonly log: Logger;
  readonly registry: Registry;
  readonly ready: () => boolean;
  /** undefined serves /metrics to anyone: only for local use (`--insecure-metrics`). */
  readonly authorizer: MetricsAuthorizer | undefined;
}

/** Probes and metrics of the node daemon. */
export function buildDaemonServer(deps: DaemonServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log,
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  app.get('/healthz', (_req, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', (_req, reply) =>
    deps.ready() ? reply.send({ status: 'ready' }) : reply.code(503).send({ status: 'not ready' }),
  );
  app.get('/metrics', async (req, reply) => {
    if (deps.authorizer !== undefined) {
      let decision: Awaited<ReturnType<MetricsAuthorizer['check']>>;
      try {
        decision = await deps.authorizer.check(req.headers.authorization, '/metrics');
      } catch (err) {
        req.log.error({ err }, 'metrics authorization failed');
        return reply.code(503).send({ error: 'cannot check authorization' });
      }
      if (!decision.allowed) return reply.code(decision.status).send({ error: decision.reason });
    }
    return reply.header('content-type', deps.registry.contentType).send(await deps.registry.metrics());
  });
  return app;
}
