// Minimal HTTP(S) requests for health endpoints and bootstrap (CRDs), so `scripts/dev`
// needs no Kubernetes client library.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export interface GetOptions {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Components' self-signed serving certs on loopback, where only liveness matters. */
  insecure?: boolean;
  timeoutMs?: number;
}

export interface Response {
  status: number;
  body: string;
}

export function request(
  method: string,
  url: string,
  opts: GetOptions = {},
  body?: { data: string; contentType: string },
): Promise<Response> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      u,
      {
        method,
        headers: body
          ? { 'content-type': body.contentType, 'content-length': Buffer.byteLength(body.data) }
          : {},
        ca: opts.caFile ? readFileSync(opts.caFile) : undefined,
        cert: opts.certFile ? readFileSync(opts.certFile) : undefined,
        key: opts.keyFile ? readFileSync(opts.keyFile) : undefined,
        rejectUnauthorized: !opts.insecure,
        timeout: opts.timeoutMs ?? 5_000,
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body?.data);
  });
}

export function get(url: string, opts: GetOptions = {}): Promise<Response> {
  return request('GET', url, opts);
}

/** Resolves true on a 200 whose body is `ok`/`{"health":"true"...}`; throws with the body otherwise (for waitFor). */
export async function healthy(url: string, opts: GetOptions = {}): Promise<true> {
  const { status, body } = await get(url, opts);
  if (status !== 200) throw new Error(`GET ${url} -> ${status}: ${body.slice(0, 500)}`);
  return true;
}
