import type { ResourceRef } from '../resources.js';
import type { RestConfig } from './kubeconfig.js';
import { apiPath, withQuery } from './paths.js';
import { EVENTS, SUBJECT_ACCESS_REVIEWS, TOKEN_REVIEWS } from './refs.js';
import { type Method, Transport, type TransportOptions } from './transport.js';
import type { CoreEvent, KubeList, KubeObject, Status, SubjectAccessReview, TokenReview } from './types.js';
import { type WatchedEvent, type WatchOptions, watchOnce } from './watch.js';

/** A resource, in one namespace or (no namespace) across all of them or cluster-scoped. */
export interface Target extends ResourceRef {
  readonly namespace?: string | undefined;
}

export interface NamedTarget extends Target {
  readonly name: string;
}

export interface ListOptions {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  readonly resourceVersion?: string | undefined;
  readonly resourceVersionMatch?: 'Exact' | 'NotOlderThan' | undefined;
  readonly limit?: number | undefined;
  readonly continue?: string | undefined;
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

const PATCH_CONTENT_TYPES: Readonly<Record<PatchType, string>> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  // JSON is YAML, so a server-side apply body goes as JSON.
  apply: 'application/apply-patch+yaml',
};

export interface WriteOptions {
  /** `status` writes the status subresource. */
  readonly subresource?: 'status' | undefined;
  readonly fieldManager?: string | undefined;
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface PatchRequest extends NamedTarget, WriteOptions {
  readonly body: unknown;
  readonly patchType: PatchType;
  /** Server-side apply only: take over fields other managers own. */
  readonly force?: boolean | undefined;
}

export interface DeleteRequest extends NamedTarget {
  readonly propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' | undefined;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string } | undefined;
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * The Kubernetes calls the operator makes, over one keep-alive connection pool. Requests take one object,
 * shaped like client-node's parameter objects (`{group, version, plural, namespace, name, body}`); objects come
 * back as the apiserver sent them. Failures are ApiError (`code` = HTTP status, `body` = the answer).
 */
export class KubeClient {
  readonly config: RestConfig;
  readonly #http: Transport;

  constructor(config: RestConfig, options?: TransportOptions) {
    this.config = config;
    this.#http = new Transport(config, options);
  }

  list<T = KubeObject>(req: Target & ListOptions): Promise<KubeList<T>> {
    const path = withQuery(apiPath(req), {
      labelSelector: req.labelSelector,
      fieldSelector: req.fieldSelector,
      resourceVersion: req.resourceVersion,
      resourceVersionMatch: req.resourceVersionMatch,
      limit: req.limit,
      continue: req.continue,
    });
    return this.#call('GET', path, undefined, req);
  }

  get<T = KubeObject>(req: NamedTarget & Pick<ListOptions, 'timeoutMs' | 'signal'>): Promise<T> {
    return this.#call('GET', apiPath(req), undefined, req);
  }

  /** Creates `body` in `namespace` (or cluster-wide); `name` is never part of a create path. */
  create<T = KubeObject>(req: Target & WriteOptions & { readonly body: T }): Promise<T> {
    const path = withQuery(apiPath({ ...req, name: undefined, subresource: undefined }), {
      fieldManager: req.fieldManager,
    });
    return this.#call('POST', path, req.body, req);
  }

  /** A PUT: the body must carry the resourceVersion it replaces, or the write is unconditional. */
  replace<T = KubeObject>(req: NamedTarget & WriteOptions & { readonly body: T }): Promise<T> {
    const path = withQuery(apiPath(req), { fieldManager: req.fieldManager });
    return this.#call('PUT', path, req.body, req);
  }

  patch<T = KubeObject>(req: PatchRequest): Promise<T> {
    const path = withQuery(apiPath(req), {
      fieldManager: req.fieldManager,
      force: req.patchType === 'apply' ? req.force : undefined,
    });
    return this.#call('PATCH', path, req.body, req, PATCH_CONTENT_TYPES[req.patchType]);
  }

  /** Resolves with the deleted object (or a Status, as the apiserver chooses); a missing object is a 404. */
  delete<T = KubeObject | Status>(req: DeleteRequest): Promise<T> {
    const options =
      req.propagationPolicy !== undefined || req.preconditions !== undefined
        ? {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            ...(req.propagationPolicy !== undefined ? { propagationPolicy: req.propagationPolicy } : {}),
            ...(req.preconditions !== undefined ? { preconditions: req.preconditions } : {}),
          }
        : undefined;
    return this.#call('DELETE', apiPath(req), options, req);
  }

  /** A core/v1 Event; Date timestamps go out as ISO strings. */
  createEvent(req: { readonly namespace: string; readonly body: CoreEvent }): Promise<CoreEvent> {
    return this.create({
      ...EVENTS,
      namespace: req.namespace,
      body: { apiVersion: 'v1', kind: 'Event', ...req.body },
    });
  }

  createTokenReview(req: { readonly body: TokenReview }): Promise<TokenReview> {
    return this.create({
      ...TOKEN_REVIEWS,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', ...req.body },
    });
  }

  createSubjectAccessReview(req: { readonly body: SubjectAccessReview }): Promise<SubjectAccessReview> {
    return this.create({
      ...SUBJECT_ACCESS_REVIEWS,
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', ...req.body },
    });
  }

  /** One watch request until the apiserver ends it (see watchOnce); informers build on this. */
  watch<T = KubeObject>(
    req: Target & WatchOptions,
    onEvent: (event: WatchedEvent<T>) => void,
  ): Promise<void> {
    return watchOnce(this.#http, req, req, onEvent);
  }

  /** Drops pooled connections; in-flight requests and watches fail. */
  close(): void {
    this.#http.close();
  }

  #call<T>(
    method: Method,
    path: string,
    body: unknown,
    opts: { readonly timeoutMs?: number | undefined; readonly signal?: AbortSignal | undefined },
    contentType?: string,
  ): Promise<T> {
    return this.#http.json<T>({
      method,
      path,
      ...(body !== undefined ? { body } : {}),
      ...(contentType !== undefined ? { contentType } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
  }
}
