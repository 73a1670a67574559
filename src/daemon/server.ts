import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  type CertWatcher,
  certFilesIn,
  type KeyPair,
  readKeyPair,
  reloadServerCertificates,
  TLS_MIN_VERSION,
} from '../webhook/tls-reloader.js';
import { ALLOWED_METHODS, METRICS_PATHS, type MetricsPath, routeRequest } from './http-routes.js';
import type { MetricsAuthorizer } from './metrics-auth.js';

export { METRICS_PATHS };

export interface DaemonServerDeps {
  readonly log: Logger;
  readonly registry: Registry;
  readonly ready: () => boolean;
  /** undefined serves metrics to anyone: only for local use (`--insecure-metrics`). */
  readonly authorizer: MetricsAuthorizer | undefined;
  /** Serve HTTPS (TLS 1.2 or newer) with this pair; undefined serves plain HTTP. */
  readonly tls?: KeyPair | undefined;
}

/** Probes and metrics of the node daemon (and of the enricher), not yet listening. */
export interface DaemonHttpServer {
  /** node:https's server when built with a key pair (its certificates can be swapped), else node:http's. */
  readonly server: Server;
  /** Resolves to `https://host:port` or `http://host:port`; port 0 picks a free port. */
  listen(options: { readonly host: string; readonly port: number }): Promise<string>;
  /** Stops accepting, closes idle keep-alive connections and waits for the requests in flight. */
  close(): Promise<void>;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

async function serveMetrics(
  deps: DaemonServerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  path: MetricsPath,
): Promise<void> {
  if (deps.authorizer !== undefined) {
    let decision: Awaited<ReturnType<MetricsAuthorizer['check']>>;
    try {
      // The path asked for is the one checked: a role may grant /metrics-spod without /metrics.
      decision = await deps.authorizer.check(req.headers.authorization, path);
    } catch (err) {
      deps.log.error({ err, path }, 'metrics authorization failed');
      sendJson(res, 503, { error: 'cannot check authorization' });
      return;
    }
    if (!decision.allowed) {
      sendJson(res, decision.status, { error: decision.reason });
      return;
    }
  }
  const text = await deps.registry.metrics();
  res.writeHead(200, {
    'content-type': deps.registry.contentType,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function handle(deps: DaemonServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = routeRequest(req.method, req.url);
  switch (route.kind) {
    case 'healthz':
      return sendJson(res, 200, { status: 'ok' });
    case 'readyz':
      return deps.ready()
        ? sendJson(res, 200, { status: 'ready' })
        : sendJson(res, 503, { status: 'not ready' });
    case 'metrics':
      return serveMetrics(deps, req, res, route.path);
    case 'method-not-allowed':
      return sendJson(res, 405, { error: `only ${ALLOWED_METHODS}` }, { allow: ALLOWED_METHODS });
    case 'not-found':
      return sendJson(res, 404, { error: `no route ${req.method ?? ''} ${req.url ?? ''}` });
  }
}

/**
 * node:http rather than fastify: three fixed routes need no router, schemas or plugins, and fastify with ajv
 * costs the daemon about 5 MB of RSS on every node (bench/daemon).
 */
export function buildDaemonServer(deps: DaemonServerDeps): DaemonHttpServer {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(deps, req, res).catch((err: unknown) => {
      deps.log.error({ err, url: req.url }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };
  const server: Server = deps.tls
    ? (createHttpsServer({ ...deps.tls, minVersion: TLS_MIN_VERSION }, onRequest) as unknown as Server)
    : createHttpServer(onRequest);
  const scheme = deps.tls ? 'https' : 'http';
  return {
    server,
    listen: ({ host, port }) =>
      new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const bound = (server.address() as AddressInfo).port;
          // A wildcard is no address to connect to: name loopback, as a client on this host would use.
          const shown = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
          resolve(`${scheme}://${shown.includes(':') ? `[${shown}]` : shown}:${bound}`);
        });
      }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        server.close((err) => (err !== undefined ? reject(err) : resolve()));
        // Scrapers keep connections open between scrapes: without this, close() would wait for them to time out.
        server.closeIdleConnections();
      }),
  };
}

export interface DaemonListenOptions extends Omit<DaemonServerDeps, 'tls'> {
  readonly host: string;
  readonly port: number;
  /** A mounted `kubernetes.io/tls` Secret (tls.crt, tls.key): serve HTTPS and follow its rotation. */
  readonly certDir?: string | undefined;
  readonly certPollMs?: number;
}

export interface DaemonServer {
  /** `https://host:port` or `http://host:port` */
  readonly address: string;
  close(): Promise<void>;
}

/** Listens; with a certificate directory, over HTTPS, taking a renewed pair without a restart. */
export async function startDaemonServer(options: DaemonListenOptions): Promise<DaemonServer> {
  const files = options.certDir !== undefined ? certFilesIn(options.certDir) : undefined;
  const tls = files !== undefined ? await readKeyPair(files) : undefined;
  const http = buildDaemonServer({ ...options, tls });
  const address = await http.listen({ host: options.host, port: options.port });
  let certs: CertWatcher | undefined;
  if (files !== undefined && tls !== undefined) {
    // buildDaemonServer made an https.Server for this pair: it has setSecureContext.
    const secure = http.server as unknown as Parameters<typeof reloadServerCertificates>[0];
    certs = reloadServerCertificates(secure, files, tls, {
      log: options.log,
      ...(options.certPollMs !== undefined ? { intervalMs: options.certPollMs } : {}),
    });
  }
  return {
    address,
    async close() {
      certs?.close();
      await http.close();
    },
  };
}
