// A small Kubernetes REST client: kubeconfig and in-cluster loading, JSON calls over a keep-alive agent, and a
// list+watch informer. It loads none of client-node's generated code, which costs ~80 MB of RSS by itself.
import { KubeClient } from './client.js';
import { type LoadOptions, loadRestConfig } from './kubeconfig.js';
import type { TransportOptions } from './transport.js';

export { ApiError, describeError, isGone, statusOf } from './api-error.js';
export {
  type DeleteRequest,
  KubeClient,
  type ListOptions,
  type NamedTarget,
  type PatchRequest,
  type PatchType,
  type Target,
  type WriteOptions,
} from './client.js';
export {
  dropManagedFields,
  informerFromSource,
  type ListWatchSource,
  listWatchSource,
  makeRestInformer,
  type RestInformerOptions,
} from './informer.js';
export {
  inCluster,
  type LoadOptions,
  loadRestConfig,
  type RestConfig,
  SERVICE_ACCOUNT_DIR,
} from './kubeconfig.js';
export { ObjectStore } from './object-store.js';
export { apiPath, type ObjectPath, withQuery } from './paths.js';
export {
  CONFIG_MAPS,
  DAEMON_SETS,
  EVENTS,
  NAMESPACES,
  NODES,
  PODS,
  SUBJECT_ACCESS_REVIEWS,
  TOKEN_REVIEWS,
} from './refs.js';
export type {
  CoreEvent,
  Informer,
  KubeList,
  KubeObject,
  ObjectCache,
  ObjectMeta,
  Status,
  SubjectAccessReview,
  TokenReview,
} from './types.js';
export type { WatchedEvent, WatchOptions } from './watch.js';

/** The client for an explicit kubeconfig, else $KUBECONFIG, ~/.kube/config or the in-cluster ServiceAccount. */
export async function createKubeClient(
  kubeconfig?: string,
  options: LoadOptions & TransportOptions = {},
): Promise<KubeClient> {
  return new KubeClient(await loadRestConfig(kubeconfig, options), options);
}
