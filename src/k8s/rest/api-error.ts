import type { Status } from './types.js';

/**
 * A non-2xx answer from the apiserver. `code` is the HTTP status and `body` the response text, the two fields
 * statusOf() and describeError() in src/k8s/client.ts read, so callers handle this and client-node's errors alike.
 */
export class ApiError extends Error {
  readonly code: number;
  readonly body: string;
  /** The Status reason (`NotFound`, `AlreadyExists`, `Conflict`, `Expired`...), when the body is a Status. */
  readonly reason: string | undefined;

  constructor(method: string, path: string, code: number, body: string) {
    const status = parseStatus(body);
    super(`${method} ${path}: ${code} ${status?.message ?? body.slice(0, 200)}`);
    this.name = 'ApiError';
    this.code = code;
    this.body = body;
    this.reason = status?.reason;
  }
}

/** The Status in an error body or a watch ERROR event, if it is one. */
export function parseStatus(body: string): Status | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object' && (parsed as Status).kind === 'Status') {
      return parsed as Status;
    }
  } catch {}
  return undefined;
}

/** 410: the resource version asked for is older than what the apiserver keeps; the only fix is a new list. */
export function isGone(err: unknown): boolean {
  return err instanceof ApiError && err.code === 410;
}

/** The HTTP status of a failed call, or undefined for network errors (same as statusOf in src/k8s/client.ts). */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * A short, loggable form of a client error: its HTTP status and the apiserver's message. The same contract as
 * describeError in src/k8s/client.ts, without loading client-node.
 */
export function describeError(err: unknown): { code: number | string | undefined; reason: string } {
  const e = (err ?? {}) as { code?: unknown; message?: string; body?: unknown };
  let reason = (e.message ?? String(err)).split('\n')[0] ?? '';
  if (typeof e.body === 'string') {
    reason = e.body.slice(0, 300);
    try {
      // client-node sometimes hands the Status over JSON-encoded twice.
      let body: unknown = JSON.parse(e.body);
      if (typeof body === 'string') body = JSON.parse(body);
      const message = (body as { message?: unknown } | null)?.message;
      if (typeof message === 'string') reason = message;
    } catch {}
  }
  const code = typeof e.code === 'number' || typeof e.code === 'string' ? e.code : undefined;
  return { code, reason };
}
