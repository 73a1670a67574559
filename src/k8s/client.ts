import { KubeConfig } from '@kubernetes/client-node';
import { AppError } from '../errors.js';

/** An explicit kubeconfig file, else the usual order: $KUBECONFIG, ~/.kube/config, the in-cluster account. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (e) {
    throw new AppError(
      'ERR_CONFIG',
      `cannot load kubeconfig${path ? ` ${path}` : ''}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  if (!kc.getCurrentCluster()) throw new AppError('ERR_CONFIG', 'kubeconfig has no current cluster');
  return kc;
}

/** The HTTP status of a failed client call, or undefined for network errors. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** A short, loggable form of a client error: its HTTP status and the apiserver's message, not headers and stack. */
export function describeError(err: unknown): { code: number | string | undefined; reason: string } {
  const e = err as { code?: unknown; message?: string; body?: unknown };
  let reason = (e.message ?? String(err)).split('\n')[0] ?? '';
  if (typeof e.body === 'string') {
    reason = e.body.slice(0, 300);
    try {
      // The generated client sometimes hands the Status over JSON-encoded twice.
      let body: unknown = JSON.parse(e.body);
      if (typeof body === 'string') body = JSON.parse(body);
      const message = (body as { message?: unknown }).message;
      if (typeof message === 'string') reason = message;
    } catch {}
  }
  const code = typeof e.code === 'number' || typeof e.code === 'string' ? e.code : undefined;
  return { code, reason };
}
