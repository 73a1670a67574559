import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** Liveness, readiness and metrics for the manager, on plain HTTP: nothing secret is served here. */
export function buildProbeApp(deps: {
  log: Logger;
  registry: Registry;
  ready: () => boolean;
}): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log,
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  app.get('/healthz', (_req, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', (_req, reply) =>
    deps.ready() ? reply.send({ status: 'ready' }) : reply.code(503).send({ status: 'not ready' }),
  );
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', deps.registry.contentType).send(await deps.registry.metrics()),
  );
  return app;
}
