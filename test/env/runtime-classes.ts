// RuntimeClasses for containerd's extra runtime handlers (test/env/containerd.ts), so a pod picks one with
// `runtimeClassName`. Applied server-side, as `kubectl apply --server-side` would: `up` stays idempotent.
import { apiserverTls, apiserverUrl } from './controlplane.js';
import { request } from './http.js';

export async function applyRuntimeClasses(handlers: readonly string[]): Promise<void> {
  for (const handler of handlers) {
    const body = {
      apiVersion: 'node.k8s.io/v1',
      kind: 'RuntimeClass',
      metadata: { name: handler },
      handler,
    };
    const res = await request(
      'PATCH',
      `${apiserverUrl}/apis/node.k8s.io/v1/runtimeclasses/${handler}?fieldManager=spo-dev&force=true`,
      apiserverTls(),
      { data: JSON.stringify(body), contentType: 'application/apply-patch+yaml' },
    );
    if (res.status !== 200 && res.status !== 201)
      throw new Error(`applying RuntimeClass ${handler}: ${res.status} ${res.body}`);
  }
}
