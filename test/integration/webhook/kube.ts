// Raw apiserver calls the typed client hides: admission warnings arrive as HTTP Warning headers.
import { request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface ApiResult<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly warnings: string[];
}

/** Kubernetes warning headers: `299 - "text"`, possibly several joined by commas. */
function parseWarnings(header: string | string[] | undefined): string[] {
  const all = Array.isArray(header) ? header : header ? [header] : [];
  return all.flatMap((h) =>
    [...h.matchAll(/299 - "((?:[^"\\]|\\.)*)"/g)].map((m) => (m[1] ?? '').replace(/\\"/g, '"')),
  );
}

export async function apiRequest<T = unknown>(
  kc: KubeConfig,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('no current cluster');
  const url = new URL(path, server);
  const opts: import('node:https').RequestOptions = {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    agent: false,
  };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {}
        resolve({
          status: res.statusCode ?? 0,
          body: parsed as T,
          warnings: parseWarnings(res.headers['warning']),
        });
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

export interface PodLike {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: Array<{ name: string; image: string; securityContext?: Record<string, unknown> }>;
    initContainers?: Array<{ name: string; image: string; securityContext?: Record<string, unknown> }>;
  };
}

/** Creates a pod (or only admits it, with dryRun) and returns what admission made of it. */
export function createPod(kc: KubeConfig, namespace: string, pod: PodLike, dryRun = false) {
  return apiRequest<PodLike & { message?: string }>(
    kc,
    'POST',
    `/api/v1/namespaces/${namespace}/pods${dryRun ? '?dryRun=All' : ''}`,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      ...pod,
      metadata: pod.metadata?.name ? pod.metadata : { generateName: 'pod-', ...pod.metadata },
      spec: { terminationGracePeriodSeconds: 0, ...pod.spec },
    },
  );
}
