import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import { profileFileName, profilingEndpoint, profilingIndex, routeProfiling } from './routes.js';

/** Loopback only: profiles and heap snapshots hold whatever the process holds (tokens, keys). */
export const PROFILING_HOST = '127.0.0.1';

export interface ProfilingServerOptions {
  readonly role: string;
  /** 0 picks a free port; `port` on the result is the real one. */
  readonly port: number;
  readonly log: Logger;
  readonly now?: () => Date;
}

export interface ProfilingServer {
  readonly port: number;
  /** "localhost:<port>", as logged. */
  readonly endpoint: string;
  /** Stops any profile in progress and closes every connection. */
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(text.endsWith('\n') ? text : `${text}\n`);
}

async function cpuProfile(seconds: number, signal: AbortSignal): Promise<string | undefined> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    // Not ref'd: a profile in progress must not hold a role that is shutting down.
    await sleep(seconds * 1000, undefined, { signal, ref: false }).catch(() => undefined);
    const { profile } = await session.post('Profiler.stop');
    return signal.aborted ? undefined : JSON.stringify(profile);
  } finally {
    session.disconnect();
  }
}

/** Streams the snapshot as V8 hands it out, so the whole JSON never sits in one string. */
async function heapSnapshot(res: ServerResponse): Promise<number> {
  const session = new Session();
  session.connect();
  let bytes = 0;
  session.on('HeapProfiler.addHeapSnapshotChunk', (message) => {
    if (res.destroyed) return;
    bytes += Buffer.byteLength(message.params.chunk);
    res.write(message.params.chunk);
  });
  try {
    await session.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    session.disconnect();
  }
  return bytes;
}

/**
 * The pprof-style debugging server of one role: V8 CPU profiles and heap snapshots over HTTP on loopback,
 * reached with `kubectl port-forward` or `kubectl exec`. One profile at a time, since two would skew each other.
 */
export async function startProfilingServer(options: ProfilingServerOptions): Promise<ProfilingServer> {
  const { role } = options;
  const log = options.log.child({ component: 'profiling' });
  const now = options.now ?? (() => new Date());
  const inFlight = new Set<AbortController>();
  let busy = false;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = routeProfiling(req.method, req.url);
    if (route.kind === 'error') {
      send(res, route.status, route.message, route.status === 405 ? { allow: 'GET' } : {});
      return;
    }
    if (route.kind === 'index') {
      send(res, 200, profilingIndex(role));
      return;
    }
    if (busy) {
      send(res, 409, 'a profile is already being taken; try again when it is done');
      return;
    }
    busy = true;
    const abort = new AbortController();
    inFlight.add(abort);
    res.once('close', () => abort.abort());
    const attachment = (kind: 'cpu' | 'heap') => ({
      'content-type': 'application/json',
      'content-disposition': `attachment; filename="${profileFileName(role, kind, now())}"`,
      'cache-control': 'no-store',
    });
    try {
      if (route.kind === 'cpu') {
        log.info({ seconds: route.seconds }, 'CPU profile started');
        const profile = await cpuProfile(route.seconds, abort.signal);
        if (profile === undefined || res.destroyed) {
          log.info('CPU profile abandoned: the client went away or the server is closing');
          return;
        }
        res.writeHead(200, attachment('cpu'));
        res.end(profile);
        log.info({ seconds: route.seconds, bytes: Buffer.byteLength(profile) }, 'CPU profile served');
      } else {
        res.writeHead(200, attachment('heap'));
        const bytes = await heapSnapshot(res);
        res.end();
        log.info({ bytes }, 'heap snapshot served');
      }
    } finally {
      inFlight.delete(abort);
      busy = false;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err, url: req.url }, 'profiling request failed');
      if (!res.headersSent) send(res, 500, 'profiling failed; see the role log');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new AppError(
          'ERR_CONFIG',
          `cannot serve profiling on ${PROFILING_HOST}:${options.port}: ${err.code ?? err.message}; ` +
            'choose another port with --profiling-port (0 picks a free one)',
          { cause: err },
        ),
      ),
    );
    server.listen({ host: PROFILING_HOST, port: options.port }, resolve);
  });
  // A debugging aid never keeps a role alive on its own.
  server.unref();
  const port = (server.address() as AddressInfo).port;
  const endpoint = profilingEndpoint(port);
  options.log.info({ endpoint }, 'Starting profiling server');
  return {
    port,
    endpoint,
    close() {
      for (const abort of inFlight) abort.abort();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
