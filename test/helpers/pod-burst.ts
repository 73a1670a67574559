// For tests that count how many writes a burst of pod events costs an object the manager maintains.
import { Watch } from '@kubernetes/client-node';
import type { Cluster } from './cluster.js';

/**
 * A pod whose one container runs under the operator's profile `<namespace>/<profile>`, on a node that does not
 * exist: never scheduled, so it makes its creation event and no more.
 */
export function createUnscheduledPod(cluster: Cluster, namespace: string, name: string, profile: string) {
  return cluster.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        nodeName: `${namespace}-nowhere`,
        containers: [
          {
            name: 'web',
            image: 'nginx:1.19.1',
            securityContext: {
              seccompProfile: {
                type: 'Localhost',
                localhostProfile: `operator/${namespace}/${profile}.json`,
              },
            },
          },
        ],
      },
    },
  });
}

/** Counts the writes (MODIFIED events) of the object `name` in the collection at `path` until the test ends. */
export async function countWrites(
  t: { teardown(fn: () => void): void },
  cluster: Cluster,
  path: string,
  name: string,
): Promise<() => number> {
  let writes = 0;
  const watch = await new Watch(cluster.kc).watch(
    path,
    { fieldSelector: `metadata.name=${name}` },
    (type) => {
      if (type === 'MODIFIED') writes++;
    },
    () => undefined,
  );
  t.teardown(() => watch.abort());
  return () => writes;
}
