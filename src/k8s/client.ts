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

// One definition for both clients: the small REST client's errors and client-node's carry the same shape.
export { describeError, statusOf } from './rest/api-error.js';
