const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';

/**
 * The canonical form of an image reference, as the container runtime resolves it: `nginx` and
 * `docker.io/library/nginx:latest` are the same image. With a digest the tag is ignored (the runtime pulls
 * by digest), so a digest reference matches only the same digest. Strings that are not references come
 * back trimmed and otherwise unchanged, so they still compare equal to themselves.
 */
export function normalizeImage(ref: string): string {
  let out = memo.get(ref);
  if (out === undefined) {
    out = normalize(ref);
    // Bounded so a stream of unique references cannot grow it without limit; pods reuse few images.
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(ref, out);
  }
  return out;
}

// Admission normalises every container image of every pod; the same handful of references recur.
const MEMO_LIMIT = 10_000;
const memo = new Map<string, string>();

function normalize(ref: string): string {
  const trimmed = ref.trim();
  if (trimmed === '' || /\s/.test(trimmed)) return trimmed;
  let rest = trimmed;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at);
    rest = rest.slice(0, at);
  }
  let tag = '';
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (rest === '') return trimmed;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  // docker's rule: the first component is a registry only if it looks like a host (dot, port or localhost).
  const hasDomain = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  let domain = hasDomain ? first : DEFAULT_DOMAIN;
  let path = hasDomain ? rest.slice(slash + 1) : rest;
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  if (digest !== '') return `${domain}/${path}${digest}`;
  return `${domain}/${path}:${tag === '' ? 'latest' : tag}`;
}
