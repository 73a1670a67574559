// The few API shapes this client touches. Fields are a subset of the apiserver's (and of client-node's
// generated types, so objects typed with either fit both): nothing here is converted, a Date arrives as a string.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: { [key: string]: string };
  annotations?: { [key: string]: string };
  finalizers?: string[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: ListMeta;
  items: T[];
}

/** What the apiserver answers with on failure (and on some deletes). */
export interface Status {
  kind?: 'Status';
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export type WatchEvent<T> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; readonly object: T }
  | { readonly type: 'ERROR'; readonly object: Status };

/** The cache half of an informer, as client-node's ObjectCache: cluster-scoped objects live under ''. */
export interface ObjectCache<T> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): ReadonlyArray<T>;
}

/** A list-watch cache: what the manager, the webhook and the daemon read the cluster through. */
export interface Informer<T extends KubeObject> {
  readonly cache: ObjectCache<T>;
  /** True once the first list is in; stays true across reconnects (the cache is then briefly stale, not empty). */
  synced(): boolean;
  /**
   * Called after the cache changed: add, update or delete of `obj`. An update also hands over `previous`, the
   * state it replaced, so a handler can tell which fields changed without keeping copies of its own.
   */
  onChange(cb: (obj: T, verb: 'add' | 'update' | 'delete', previous?: T) => void): void;
  /** Resolves after the first list; retries with back-off until then and after every failure. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface CoreEvent extends KubeObject {
  involvedObject: {
    apiVersion?: string;
    kind?: string;
    name?: string;
    namespace?: string;
    uid?: string;
  };
  type?: 'Normal' | 'Warning';
  reason?: string;
  message?: string;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
  /** A Date is sent as its ISO string. */
  firstTimestamp?: Date | string;
  lastTimestamp?: Date | string;
  count?: number;
}

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: { [key: string]: string[] };
}

export interface TokenReview extends KubeObject {
  spec: { token?: string; audiences?: string[] };
  status?: { authenticated?: boolean; user?: UserInfo; audiences?: string[]; error?: string };
}

export interface SubjectAccessReview extends KubeObject {
  spec: {
    user?: string;
    groups?: string[];
    uid?: string;
    extra?: { [key: string]: string[] };
    nonResourceAttributes?: { path?: string; verb?: string };
    resourceAttributes?: {
      group?: string;
      version?: string;
      resource?: string;
      subresource?: string;
      namespace?: string;
      name?: string;
      verb?: string;
    };
  };
  status?: { allowed: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}
