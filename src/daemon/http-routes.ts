/** The seed's path for the daemon's metrics, and the plain `/metrics` scrapers default to. */
export const METRICS_PATHS = ['/metrics-spod', '/metrics'] as const;

export type MetricsPath = (typeof METRICS_PATHS)[number];

export type Route =
  | { readonly kind: 'healthz' }
  | { readonly kind: 'readyz' }
  | { readonly kind: 'metrics'; readonly path: MetricsPath }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'method-not-allowed' };

/** The methods every route answers; HEAD is GET without the body, as probes and curl -I expect. */
export const ALLOWED_METHODS = 'GET, HEAD';

/** Which of the daemon's few routes a request is for. The query string plays no part in the choice. */
export function routeRequest(method: string | undefined, url: string | undefined): Route {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  let route: Route;
  if (path === '/healthz') route = { kind: 'healthz' };
  else if (path === '/readyz') route = { kind: 'readyz' };
  else if ((METRICS_PATHS as readonly string[]).includes(path))
    route = { kind: 'metrics', path: path as MetricsPath };
  else return { kind: 'not-found' };
  return method === 'GET' || method === 'HEAD' ? route : { kind: 'method-not-allowed' };
}
