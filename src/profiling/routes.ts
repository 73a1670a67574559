/** CPU profiles run for `seconds` (the pprof parameter): bounded so a typo cannot pin a profiler for hours. */
export const MIN_PROFILE_SECONDS = 1;
export const MAX_PROFILE_SECONDS = 60;
export const DEFAULT_PROFILE_SECONDS = 30;

export const PPROF_PREFIX = '/debug/pprof';

export type ProfilingRoute =
  | { readonly kind: 'index' }
  | { readonly kind: 'cpu'; readonly seconds: number }
  | { readonly kind: 'heap' }
  | { readonly kind: 'error'; readonly status: 400 | 404 | 405; readonly message: string };

function parseSeconds(value: string | null): number | string {
  if (value === null || value === '') return DEFAULT_PROFILE_SECONDS;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < MIN_PROFILE_SECONDS || n > MAX_PROFILE_SECONDS) {
    return `seconds must be a whole number from ${MIN_PROFILE_SECONDS} to ${MAX_PROFILE_SECONDS}, not "${value}"`;
  }
  return n;
}

/** What a request to the profiling server asks for; pure, so every edge is table-tested. */
export function routeProfiling(method: string | undefined, url: string | undefined): ProfilingRoute {
  let parsed: URL;
  try {
    parsed = new URL(url ?? '/', 'http://localhost');
  } catch {
    return { kind: 'error', status: 400, message: 'malformed request URL' };
  }
  const path = parsed.pathname.replace(/\/+$/, '');
  const known = [PPROF_PREFIX, `${PPROF_PREFIX}/profile`, `${PPROF_PREFIX}/heap`];
  if (!known.includes(path)) {
    return { kind: 'error', status: 404, message: `not found; see ${PPROF_PREFIX}/` };
  }
  if (method !== 'GET') return { kind: 'error', status: 405, message: 'only GET is served' };
  if (path === PPROF_PREFIX) return { kind: 'index' };
  if (path === `${PPROF_PREFIX}/heap`) return { kind: 'heap' };
  const seconds = parseSeconds(parsed.searchParams.get('seconds'));
  if (typeof seconds === 'string') return { kind: 'error', status: 400, message: seconds };
  return { kind: 'cpu', seconds };
}

/** What `seccompctl <role>` answers on /debug/pprof/: the endpoints and how to open what they return. */
export function profilingIndex(role: string): string {
  return `seccompctl ${role} profiling

GET ${PPROF_PREFIX}/profile?seconds=N  V8 CPU profile over N seconds (${MIN_PROFILE_SECONDS}-${MAX_PROFILE_SECONDS}, default ${DEFAULT_PROFILE_SECONDS}), a .cpuprofile:
                                     open it in Chrome DevTools (Performance tab, "Load profile").
GET ${PPROF_PREFIX}/heap               V8 heap snapshot, a .heapsnapshot: open it in Chrome DevTools
                                     (Memory tab, "Load"). Taking it pauses the process for a moment.

One profile or snapshot at a time; a second request meanwhile gets 409.
`;
}

/** `<role>-<UTC timestamp>.<ext>`: what a browser saves the download as. */
export function profileFileName(role: string, kind: 'cpu' | 'heap', now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `${role}-${stamp}.${kind === 'cpu' ? 'cpuprofile' : 'heapsnapshot'}`;
}

/** The endpoint as logged ("localhost:6060"), the form the seed's log lines show. */
export function profilingEndpoint(port: number): string {
  return `localhost:${port}`;
}
