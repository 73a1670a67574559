import type { IncomingMessage } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { ApiError } from './api-error.js';
import type { RestConfig } from './kubeconfig.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  readonly method: Method;
  /** Path and query, as apiPath() and withQuery() build them. */
  readonly path: string;
  readonly body?: unknown;
  /** Defaults to application/json when there is a body. */
  readonly contentType?: string;
  /** For a JSON request the whole exchange; for a stream, the longest silence. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface TransportOptions {
  readonly userAgent?: string;
  /** Default for requests that give none. */
  readonly timeoutMs?: number;
  /** Largest response body read into memory. */
  readonly maxBodyBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;
// Below the apiserver's 90 s idle timeout, so a pooled connection is not reused just as the server drops it.
const FREE_SOCKET_TIMEOUT_MS = 30_000;

function timeoutError(method: string, path: string, ms: number): Error {
  return Object.assign(new Error(`${method} ${path}: no answer within ${ms} ms`), { code: 'ETIMEDOUT' });
}

/**
 * HTTP(S) to one apiserver over a keep-alive agent that carries the kubeconfig's TLS material. Non-2xx answers
 * become ApiError; nothing is retried here (callers decide what a 409, 429 or 5xx means for them).
 */
export class Transport {
  readonly #config: RestConfig;
  readonly #agent: http.Agent;
  readonly #lib: typeof http | typeof https;
  readonly #base: string;
  readonly #userAgent: string;
  readonly #timeoutMs: number;
  readonly #maxBodyBytes: number;

  constructor(config: RestConfig, options: TransportOptions = {}) {
    this.#config = config;
    const url = new URL(config.server);
    this.#base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    this.#userAgent = options.userAgent ?? 'seccomp-profiles-operator';
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    const pool = { keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS, scheduling: 'lifo' as const };
    if (url.protocol === 'https:') {
      const { ca, cert, key, rejectUnauthorized, servername } = config.tls;
      this.#lib = https;
      this.#agent = new https.Agent({
        ...pool,
        ...(ca !== undefined ? { ca } : {}),
        ...(cert !== undefined ? { cert } : {}),
        ...(key !== undefined ? { key } : {}),
        ...(servername !== undefined ? { servername } : {}),
        rejectUnauthorized,
      });
    } else {
      this.#lib = http;
      this.#agent = new http.Agent(pool);
    }
  }

  /** Sends JSON (if a body is given) and parses the JSON answer; an empty answer is undefined. */
  async json<T>(opts: RequestOptions): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    const res = await this.#send(opts, timeoutMs, true);
    const text = await this.#readBody(res, opts);
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new Error(`${opts.method} ${opts.path}: answer is not JSON: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** Opens a streaming GET (a watch): resolves with the response once a 2xx status is in. */
  async stream(opts: RequestOptions): Promise<IncomingMessage> {
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    return this.#send(opts, timeoutMs, false);
  }

  /** Closes pooled connections; requests in flight fail. */
  close(): void {
    this.#agent.destroy();
  }

  async #headers(
    payload: Buffer | undefined,
    contentType: string | undefined,
  ): Promise<http.OutgoingHttpHeaders> {
    const c = this.#config;
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json', 'user-agent': this.#userAgent };
    if (payload !== undefined) {
      headers['content-type'] = contentType ?? 'application/json';
      headers['content-length'] = payload.length;
    }
    if (c.token !== undefined) headers['authorization'] = `Bearer ${await c.token()}`;
    else if (c.basic !== undefined) {
      const pair = Buffer.from(`${c.basic.username}:${c.basic.password}`).toString('base64');
      headers['authorization'] = `Basic ${pair}`;
    }
    const as = c.impersonate;
    if (as !== undefined) {
      headers['impersonate-user'] = as.user;
      if (as.uid !== undefined) headers['impersonate-uid'] = as.uid;
      if (as.groups.length > 0) headers['impersonate-group'] = [...as.groups];
      for (const [key, values] of Object.entries(as.extra)) {
        headers[`impersonate-extra-${encodeURIComponent(key)}`] = [...values];
      }
    }
    return headers;
  }

  async #send(opts: RequestOptions, timeoutMs: number, wholeExchange: boolean): Promise<IncomingMessage> {
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers = await this.#headers(payload, opts.contentType);
    opts.signal?.throwIfAborted();
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = this.#lib.request(`${this.#base}${opts.path}`, {
        method: opts.method,
        headers,
        agent: this.#agent,
        ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      });
      let deadline: NodeJS.Timeout | undefined;
      if (wholeExchange) {
        deadline = setTimeout(() => req.destroy(timeoutError(opts.method, opts.path, timeoutMs)), timeoutMs);
        req.on('close', () => clearTimeout(deadline));
      } else {
        req.setTimeout(timeoutMs, () => req.destroy(timeoutError(opts.method, opts.path, timeoutMs)));
      }
      req.on('error', reject);
      req.on('response', (res) => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) {
          resolve(res);
          return;
        }
        this.#readBody(res, opts).then(
          (body) => reject(new ApiError(opts.method, opts.path, code, body)),
          reject,
        );
      });
      req.end(payload);
    });
  }

  // Each chunk is decoded as it arrives and its buffer let go: a large list never sits in memory as its chunks,
  // their concatenation and the string at once (malloc'd buffers are seldom given back to the system).
  #readBody(res: IncomingMessage, opts: RequestOptions): Promise<string> {
    return new Promise((resolve, reject) => {
      const decoder = new StringDecoder('utf8');
      const parts: string[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.#maxBodyBytes) {
          res.destroy(
            new Error(`${opts.method} ${opts.path}: answer larger than ${this.#maxBodyBytes} bytes`),
          );
          return;
        }
        parts.push(decoder.write(chunk));
      });
      res.on('end', () => {
        parts.push(decoder.end());
        resolve(parts.join(''));
      });
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(new Error(`${opts.method} ${opts.path}: connection closed mid-answer`));
      });
    });
  }
}
