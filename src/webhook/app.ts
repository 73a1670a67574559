import { isUtf8 } from 'node:buffer';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ProfileRecording } from '../profiles/types.js';
import type { AdmissionResult, WebhookMetrics } from '../metrics/index.js';
import {
  type AdmissionRequest,
  type AdmissionResponseBody,
  allowResponse,
  denyResponse,
  parseReview,
  podToMutate,
} from './admission-review.js';
import { decideBinding } from './binding.js';
import { BINDING_PATH, RECORDING_PATH } from './paths.js';
import type { Decision } from './decision.js';
import type { Pod } from './pod.js';
import { decideRecording } from './recording.js';
import { recordedThenBound } from './recorded-then-bound.js';
import type { AdmissionState } from './state.js';
import { outsideWatchedNamespace } from './watch-scope.js';
import { TLS_MIN_VERSION, type KeyPair } from './tls-reloader.js';

export { BINDING_PATH, RECORDING_PATH } from './paths.js';

// The apiserver refuses request bodies over 3 MiB, so no real review is bigger; the margin covers re-encoding.
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

export interface WebhookAppDeps {
  readonly state: AdmissionState;
  readonly log: Logger;
  readonly metrics: WebhookMetrics;
  readonly registry: Registry;
  readonly operatorNamespace: string;
  /** Single-namespace mode: reviews for any other namespace are admitted unchanged, with a warning. */
  readonly watchNamespace?: string | undefined;
  /** Serve HTTPS with this pair; without it plain HTTP, for in-process tests and benchmarks. */
  readonly tls?: KeyPair;
  readonly bodyLimit?: number;
}

type WebhookName = 'binding' | 'recording';

interface Webhook {
  readonly name: WebhookName;
  /**
   * What to answer when the webhook cannot decide (caches not synced, a bug). It mirrors the webhook's
   * failurePolicy, so an answer from a sick server means the same as no answer: binding refuses, recording admits.
   */
  readonly failClosed: boolean;
  decide(pod: Pod, request: AdmissionRequest, log: FastifyBaseLogger): Decision;
}

class BadReview extends Error {
  readonly statusCode = 400;
  readonly code = 'ERR_ADMISSION_BAD_REVIEW';
}

function parseJsonBody(
  _req: FastifyRequest,
  body: Buffer,
  done: (err: Error | null, body?: unknown) => void,
) {
  if (!isUtf8(body)) return done(new BadReview('body is not valid UTF-8'));
  try {
    done(null, JSON.parse(body.toString('utf8')));
  } catch (e) {
    done(new BadReview(`body is not valid JSON: ${(e as Error).message}`));
  }
}

/** The webhook HTTP app: routes, parsers and error mapping, without listening (the caller decides where). */
export function buildApp(deps: WebhookAppDeps): FastifyInstance {
  const { state, metrics, operatorNamespace } = deps;
  const bodyLimit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    loggerInstance: deps.log,
    // Per-request lines would double the cost of a review; decisions are logged by the handler instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    // The apiserver gives up after timeoutSeconds (5); a client slower than this is not the apiserver.
    requestTimeout: 10_000,
    ...(deps.tls ? { https: { ...deps.tls, minVersion: TLS_MIN_VERSION } } : {}),
  }) as unknown as FastifyInstance;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJsonBody);

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err, url: request.url }, 'request failed');
      return reply.code(500).send({ code: 'ERR_INTERNAL', message: 'internal error' });
    }
    // Every client mistake, oversized and wrong media type included, is a 400 with the reason (DESIGN).
    metrics.requests.inc({ webhook: webhookOf(request.url), result: 'bad_request' });
    const message = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? tooLarge(bodyLimit) : err.message;
    request.log.warn({ code: err.code, url: request.url, reason: message }, 'bad admission request');
    return reply.code(status === 404 ? 404 : 400).send({ code: err.code ?? 'ERR_BAD_REQUEST', message });
  });

  const webhooks: Webhook[] = [
    {
      name: 'binding',
      failClosed: true,
      decide: (pod, request, log) => {
        const namespace = request.namespace;
        const bind = (p: Pod) =>
          decideBinding(p, state.bindings(namespace), state.profiles(namespace), namespace);
        const recordings = state.recordings(namespace);
        if (recordings.length === 0) return bind(pod);
        return recordedThenBound(pod, recordOrWarn(pod, recordings, request, log), bind);
      },
    },
    {
      name: 'recording',
      failClosed: false,
      decide: (pod, request) =>
        decideRecording(pod, state.recordings(request.namespace), { operatorNamespace }),
    },
  ];
  for (const webhook of webhooks) {
    const path = webhook.name === 'binding' ? BINDING_PATH : RECORDING_PATH;
    app.post(path, (request, reply) => admit(webhook, request, reply));
  }

  /**
   * The recording half of a binding call fails like the recording webhook did (failurePolicy Ignore): the pod is
   * admitted unrecorded with a warning, and still bound.
   */
  function recordOrWarn(
    pod: Pod,
    recordings: readonly ProfileRecording[],
    req: AdmissionRequest,
    log: FastifyBaseLogger,
  ): Decision {
    try {
      return decideRecording(pod, recordings, { operatorNamespace });
    } catch (err) {
      log.error(
        { webhook: 'recording', uid: req.uid, namespace: req.namespace, err },
        'recording decision failed',
      );
      return {
        patch: [],
        warnings: ['recording webhook internal error; pod admitted unrecorded'],
        reasons: [],
      };
    }
  }

  function admit(webhook: Webhook, request: FastifyRequest, reply: FastifyReply) {
    const started = performance.now();
    const parsed = parseReview(request.body);
    if (!parsed.ok) {
      finish(webhook.name, 'bad_request', started);
      request.log.warn({ webhook: webhook.name, reason: parsed.reason }, 'bad admission review');
      return reply.code(400).send({ code: 'ERR_ADMISSION_BAD_REVIEW', message: parsed.reason });
    }
    const req = parsed.request;
    const { body, result } = answer(webhook, req, request.log);
    finish(webhook.name, result, started);
    return reply.send(body);
  }

  function answer(
    webhook: Webhook,
    req: AdmissionRequest,
    log: FastifyBaseLogger,
  ): { body: AdmissionResponseBody; result: AdmissionResult } {
    const target = podToMutate(req);
    if ('skip' in target) {
      return {
        body: allowResponse(req.apiVersion, req.uid, { patch: [], warnings: [] }, target.skip),
        result: 'skipped',
      };
    }
    const ctx = { webhook: webhook.name, uid: req.uid, namespace: req.namespace, name: req.name };
    const foreign = outsideWatchedNamespace(req.namespace, deps.watchNamespace);
    if (foreign !== undefined) {
      log.warn({ ...ctx, watchNamespace: deps.watchNamespace }, 'review outside the watched namespace');
      return {
        body: allowResponse(req.apiVersion, req.uid, { patch: [], warnings: [foreign] }),
        result: 'skipped',
      };
    }
    if (!state.synced()) {
      log.warn(ctx, 'admission before caches synced');
      return failure(webhook, req, 'webhook caches are not synced yet');
    }
    try {
      const decision = webhook.decide(target.pod, req, log);
      if (decision.patch.length > 0 || decision.warnings.length > 0) {
        // Spelled out rather than `{ ...ctx, reasons, warnings }`: Node 20's V8 takes about a microsecond for each
        // key added after a spread, ~10 µs of every patched review in the server (bench/README, session 9).
        const { webhook: name, uid, namespace, name: pod } = ctx;
        const { reasons, warnings } = decision;
        log.info({ webhook: name, uid, namespace, name: pod, reasons, warnings }, 'pod admitted');
      }
      return {
        body: allowResponse(req.apiVersion, req.uid, decision),
        result: decision.patch.length > 0 ? 'patched' : 'unchanged',
      };
    } catch (err) {
      log.error({ ...ctx, err }, 'admission decision failed');
      return failure(webhook, req, `${webhook.name} webhook internal error`);
    }
  }

  function failure(webhook: Webhook, req: AdmissionRequest, message: string) {
    if (webhook.failClosed)
      return { body: denyResponse(req.apiVersion, req.uid, 500, message), result: 'denied' as const };
    return {
      body: allowResponse(req.apiVersion, req.uid, {
        patch: [],
        warnings: [`${message}; pod admitted unchanged`],
      }),
      result: 'error' as const,
    };
  }

  function finish(webhook: WebhookName, result: AdmissionResult, started: number) {
    metrics.requests.inc({ webhook, result });
    metrics.duration.observe({ webhook, result }, (performance.now() - started) / 1000);
  }

  app.get('/healthz', (_req, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', (_req, reply) =>
    state.synced() ? reply.send({ status: 'ready' }) : reply.code(503).send({ status: 'caches not synced' }),
  );
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', deps.registry.contentType).send(await deps.registry.metrics()),
  );
  return app;
}

function tooLarge(limit: number): string {
  return `body is over the webhook's limit of ${limit} bytes (the apiserver accepts requests of up to 3 MiB)`;
}

function webhookOf(url: string): string {
  if (url.startsWith(BINDING_PATH)) return 'binding';
  if (url.startsWith(RECORDING_PATH)) return 'recording';
  return 'none';
}
