import type { ResourceRef } from '../resources.js';

/** Where one resource, collection or subresource lives in the API. No namespace: across all namespaces (or cluster-scoped). */
export interface ObjectPath extends ResourceRef {
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  readonly subresource?: 'status' | undefined;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VERSION = /^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$/;

function check(ok: boolean, what: string, value: string): void {
  if (!ok) throw new TypeError(`invalid ${what} ${JSON.stringify(value)} in an API path`);
}

/**
 * `/api/v1/namespaces/ns/pods/name` and the like. Group, version and plural come from code and are checked
 * against their grammar; namespace and name may come from objects or users, so they are checked and escaped.
 */
export function apiPath(p: ObjectPath): string {
  check(p.group === '' || (p.group.length <= 253 && DNS_SUBDOMAIN.test(p.group)), 'API group', p.group);
  check(VERSION.test(p.version), 'API version', p.version);
  check(p.plural.length <= 63 && DNS_LABEL.test(p.plural), 'resource', p.plural);
  let path = p.group === '' ? `/api/${p.version}` : `/apis/${p.group}/${p.version}`;
  if (p.namespace !== undefined) {
    check(p.namespace.length <= 63 && DNS_LABEL.test(p.namespace), 'namespace', p.namespace);
    path += `/namespaces/${encodeURIComponent(p.namespace)}`;
  }
  path += `/${p.plural}`;
  if (p.name !== undefined) {
    check(p.name !== '' && p.name !== '.' && p.name !== '..' && p.name.length <= 253, 'name', p.name);
    path += `/${encodeURIComponent(p.name)}`;
  } else if (p.subresource !== undefined) {
    throw new TypeError(`subresource ${p.subresource} needs an object name`);
  }
  if (p.subresource !== undefined) path += `/${p.subresource}`;
  return path;
}

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** The path with its query string; undefined values are left out, everything else percent-encoded. */
export function withQuery(path: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.append(key, String(value));
  }
  const qs = params.toString();
  return qs === '' ? path : `${path}?${qs}`;
}
