import { isAbsolute, resolve } from 'node:path';
import { AppError } from '../../errors.js';

/** One kubeconfig file, already parsed from JSON or YAML; `dir` anchors its relative paths, as kubectl does. */
export interface KubeconfigFile {
  readonly path: string;
  readonly dir: string;
  readonly doc: unknown;
}

/** Certificate or key material: inline (`*-data`, already base64-decoded) or a file to read. */
export type Material =
  | { readonly kind: 'data'; readonly data: Buffer }
  | { readonly kind: 'file'; readonly path: string };

export interface Impersonation {
  readonly user: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** What the current context asks for, before any file is read. */
export interface ResolvedKubeconfig {
  readonly context: string;
  readonly server: string;
  readonly namespace?: string;
  readonly ca?: Material;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string;
  readonly clientCert?: Material;
  readonly clientKey?: Material;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly basic?: { readonly username: string; readonly password: string };
  readonly impersonate?: Impersonation;
}

type Fields = Record<string, unknown>;
interface Named {
  readonly fields: Fields;
  readonly dir: string;
}

const fail = (message: string) => new AppError('ERR_CONFIG', message);

function isFields(v: unknown): v is Fields {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(fields: Fields, key: string, where: string): string | undefined {
  const v = fields[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw fail(`${where}: ${key} must be a string`);
  return v;
}

function strList(fields: Fields, key: string, where: string): string[] {
  const v = fields[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw fail(`${where}: ${key} must be a list of strings`);
  }
  return v;
}

/** Named entries (`clusters`, `users`, `contexts`) of all files; the first file to define a name wins. */
function collect(files: readonly KubeconfigFile[], list: string, inner: string): Map<string, Named> {
  const out = new Map<string, Named>();
  for (const file of files) {
    if (file.doc === null || file.doc === undefined) continue;
    if (!isFields(file.doc)) throw fail(`${file.path}: not a kubeconfig (expected a mapping)`);
    const entries = file.doc[list];
    if (entries === undefined || entries === null) continue;
    if (!Array.isArray(entries)) throw fail(`${file.path}: ${list} must be a list`);
    for (const entry of entries) {
      if (!isFields(entry) || typeof entry['name'] !== 'string') {
        throw fail(`${file.path}: every entry of ${list} needs a name`);
      }
      const fields = entry[inner] ?? {};
      if (!isFields(fields))
        throw fail(`${file.path}: ${list} "${entry['name']}": ${inner} must be a mapping`);
      if (!out.has(entry['name'])) out.set(entry['name'], { fields, dir: file.dir });
    }
  }
  return out;
}

function base64(value: string, where: string): Buffer {
  const clean = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(clean)) throw fail(`${where}: not base64`);
  return Buffer.from(clean, 'base64');
}

function material(entry: Named, dataKey: string, fileKey: string, where: string): Material | undefined {
  const data = str(entry.fields, dataKey, where);
  // As kubectl: inline data wins over a file path when both are given.
  if (data !== undefined) return { kind: 'data', data: base64(data, `${where}: ${dataKey}`) };
  const file = str(entry.fields, fileKey, where);
  if (file === undefined) return undefined;
  return { kind: 'file', path: isAbsolute(file) ? file : resolve(entry.dir, file) };
}

function impersonation(user: Named, where: string): Impersonation | undefined {
  const as = str(user.fields, 'as', where);
  const groups = strList(user.fields, 'as-groups', where);
  const uid = str(user.fields, 'as-uid', where);
  const rawExtra = user.fields['as-user-extra'] ?? {};
  if (!isFields(rawExtra)) throw fail(`${where}: as-user-extra must be a mapping`);
  const extra: Record<string, readonly string[]> = {};
  for (const key of Object.keys(rawExtra)) extra[key] = strList(rawExtra, key, `${where}: as-user-extra`);
  if (as === undefined) {
    if (groups.length > 0 || uid !== undefined || Object.keys(extra).length > 0) {
      throw fail(`${where}: as-groups, as-uid and as-user-extra need "as" (the user to act as)`);
    }
    return undefined;
  }
  return { user: as, ...(uid !== undefined ? { uid } : {}), groups, extra };
}

/**
 * The cluster, credentials and namespace of the current context (or `context`) across merged kubeconfig files.
 * Auth this client cannot do is refused here, naming what to use instead.
 */
export function resolveKubeconfig(files: readonly KubeconfigFile[], context?: string): ResolvedKubeconfig {
  const sources = files.map((f) => f.path).join(':');
  for (const file of files) {
    if (file.doc !== null && file.doc !== undefined && !isFields(file.doc)) {
      throw fail(`${file.path}: not a kubeconfig (expected a mapping)`);
    }
  }
  let name = context;
  for (const file of files) {
    if (name !== undefined) break;
    if (isFields(file.doc)) name = str(file.doc, 'current-context', file.path);
  }
  if (name === undefined) {
    throw fail(
      `kubeconfig ${sources} has no current-context; pick one with "kubectl config use-context NAME"`,
    );
  }
  const ctx = collect(files, 'contexts', 'context').get(name);
  if (ctx === undefined) throw fail(`context "${name}" not found in kubeconfig ${sources}`);
  const clusterName = str(ctx.fields, 'cluster', `context "${name}"`);
  if (clusterName === undefined) throw fail(`context "${name}" in ${sources} names no cluster`);
  const cluster = collect(files, 'clusters', 'cluster').get(clusterName);
  if (cluster === undefined)
    throw fail(`cluster "${clusterName}" (context "${name}") not found in ${sources}`);
  const userName = str(ctx.fields, 'user', `context "${name}"`);
  const user = userName === undefined ? undefined : collect(files, 'users', 'user').get(userName);
  if (userName !== undefined && user === undefined) {
    throw fail(`user "${userName}" (context "${name}") not found in ${sources}`);
  }

  const cw = `cluster "${clusterName}"`;
  const server = str(cluster.fields, 'server', cw);
  if (server === undefined) throw fail(`${cw} in ${sources} has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw fail(`${cw}: server "${server}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw fail(`${cw}: server "${server}" must be an http(s) URL`);
  }
  if (str(cluster.fields, 'proxy-url', cw) !== undefined) {
    throw fail(
      `${cw}: proxy-url is not supported; reach the apiserver directly or use a kubeconfig without it`,
    );
  }
  const ca = material(cluster, 'certificate-authority-data', 'certificate-authority', cw);
  const insecure = cluster.fields['insecure-skip-tls-verify'] === true;
  if (insecure && ca !== undefined) {
    throw fail(`${cw}: insecure-skip-tls-verify together with a certificate authority; remove one of them`);
  }
  const tlsServerName = str(cluster.fields, 'tls-server-name', cw);
  const namespace = str(ctx.fields, 'namespace', `context "${name}"`);
  const out: ResolvedKubeconfig = {
    context: name,
    server,
    insecureSkipTlsVerify: insecure,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(tlsServerName !== undefined ? { tlsServerName } : {}),
  };
  if (user === undefined) return out;

  const uw = `user "${userName}"`;
  const exec = user.fields['exec'];
  if (exec !== undefined && exec !== null) {
    const command = isFields(exec) && typeof exec['command'] === 'string' ? ` ("${exec['command']}")` : '';
    throw fail(
      `${uw} in ${sources} gets its credentials from an exec plugin${command}, which this client does not run; ` +
        'use a kubeconfig with a client certificate or a token (for a ServiceAccount: "kubectl create token NAME"), ' +
        'or run in the cluster with a ServiceAccount',
    );
  }
  const provider = user.fields['auth-provider'];
  if (provider !== undefined && provider !== null) {
    const pname = isFields(provider) && typeof provider['name'] === 'string' ? ` "${provider['name']}"` : '';
    throw fail(
      `${uw} in ${sources} uses the auth-provider${pname}, which this client does not support; ` +
        'use a kubeconfig with a client certificate or a token (for a ServiceAccount: "kubectl create token NAME")',
    );
  }
  const clientCert = material(user, 'client-certificate-data', 'client-certificate', uw);
  const clientKey = material(user, 'client-key-data', 'client-key', uw);
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    throw fail(`${uw}: a client certificate needs its key and a key its certificate; give both`);
  }
  const token = str(user.fields, 'token', uw);
  const tokenFile = str(user.fields, 'tokenFile', uw);
  const username = str(user.fields, 'username', uw);
  const password = str(user.fields, 'password', uw);
  if ((username === undefined) !== (password === undefined)) throw fail(`${uw}: username needs a password`);
  const impersonate = impersonation(user, uw);
  return {
    ...out,
    ...(clientCert !== undefined ? { clientCert } : {}),
    ...(clientKey !== undefined ? { clientKey } : {}),
    // As kubectl: an inline token wins over a token file.
    ...(token !== undefined ? { token } : {}),
    ...(token === undefined && tokenFile !== undefined
      ? { tokenFile: isAbsolute(tokenFile) ? tokenFile : resolve(user.dir, tokenFile) }
      : {}),
    ...(username !== undefined && password !== undefined ? { basic: { username, password } } : {}),
    ...(impersonate !== undefined ? { impersonate } : {}),
  };
}

/** `$KUBECONFIG` as kubectl reads it: a list of files, empty entries ignored, each file once. */
export function kubeconfigPaths(value: string | undefined, delimiter = ':'): string[] {
  if (value === undefined) return [];
  return [...new Set(value.split(delimiter).filter((p) => p !== ''))];
}
