import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { AppError } from '../../errors.js';
import {
  type Impersonation,
  type KubeconfigFile,
  kubeconfigPaths,
  type Material,
  resolveKubeconfig,
} from './kubeconfig-parse.js';
import { fileTokenSource, staticTokenSource, type TokenSource } from './token-source.js';

/** Everything a request needs to reach and authenticate to the apiserver; certificates and keys are read. */
export interface RestConfig {
  readonly server: string;
  /** Where this came from, for logs and errors: the kubeconfig file(s) or `in-cluster`. */
  readonly source: string;
  readonly namespace?: string;
  readonly tls: {
    readonly ca?: Buffer;
    readonly cert?: Buffer;
    readonly key?: Buffer;
    readonly rejectUnauthorized: boolean;
    readonly servername?: string;
  };
  readonly token?: TokenSource;
  readonly basic?: { readonly username: string; readonly password: string };
  readonly impersonate?: Impersonation;
}

export interface LoadOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly home?: string;
  /** The mounted ServiceAccount (token, ca.crt, namespace). */
  readonly serviceAccountDir?: string;
  /** A context other than the current one. */
  readonly context?: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const configError = (message: string, cause?: unknown) =>
  new AppError('ERR_CONFIG', message, cause === undefined ? undefined : { cause });

/**
 * An explicit kubeconfig file, else the usual order: $KUBECONFIG (a list, merged as kubectl merges it),
 * ~/.kube/config, the in-cluster ServiceAccount.
 */
export async function loadRestConfig(path?: string, options: LoadOptions = {}): Promise<RestConfig> {
  const env = options.env ?? process.env;
  if (path !== undefined && path !== '') return fromFiles([path], options);
  const listed = kubeconfigPaths(env['KUBECONFIG'], delimiter);
  if (listed.length > 0) {
    // kubectl skips files in the list that do not exist; a list where none does is a mistake worth naming.
    const present = listed.filter((p) => existsSync(p));
    if (present.length === 0)
      throw configError(`none of the KUBECONFIG files exist: ${listed.join(delimiter)}`);
    return fromFiles(present, options);
  }
  const home = join(options.home ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return fromFiles([home], options);
  const saDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (env['KUBERNETES_SERVICE_HOST'] && existsSync(join(saDir, 'token'))) return inCluster(env, saDir);
  throw configError(
    'no kubeconfig found: pass --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, ' +
      'or run in a pod with a ServiceAccount token mounted',
  );
}

/** The pod's ServiceAccount: the apiserver from the service environment, the token re-read as it rotates. */
export async function inCluster(env: NodeJS.ProcessEnv, saDir = SERVICE_ACCOUNT_DIR): Promise<RestConfig> {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) {
    throw configError('in-cluster config needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT');
  }
  const ca = await readMaterial({ kind: 'file', path: join(saDir, 'ca.crt') }, 'in-cluster CA');
  const token = await fileTokenSource(join(saDir, 'token'));
  const namespace = await readFile(join(saDir, 'namespace'), 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  );
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    source: 'in-cluster',
    ...(namespace ? { namespace } : {}),
    tls: { ca, rejectUnauthorized: true },
    token,
  };
}

async function parseDocument(text: string, path: string): Promise<unknown> {
  // Kubeconfigs we write are JSON; the YAML parser is only loaded for files that need it.
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {}
  }
  const { parse } = await import('yaml');
  try {
    return parse(text);
  } catch (e) {
    throw configError(`cannot parse kubeconfig ${path}: ${(e as Error).message}`, e);
  }
}

async function fromFiles(paths: readonly string[], options: LoadOptions): Promise<RestConfig> {
  const files: KubeconfigFile[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw configError(`cannot load kubeconfig ${path}: ${(e as Error).message}`, e);
    }
    files.push({ path, dir: dirname(path), doc: await parseDocument(text, path) });
  }
  const r = resolveKubeconfig(files, options.context);
  const where = `kubeconfig ${paths.join(delimiter)}`;
  const [ca, cert, key] = await Promise.all([
    r.ca && readMaterial(r.ca, `${where}: certificate-authority`),
    r.clientCert && readMaterial(r.clientCert, `${where}: client-certificate`),
    r.clientKey && readMaterial(r.clientKey, `${where}: client-key`),
  ]);
  let token: TokenSource | undefined;
  if (r.token !== undefined) token = staticTokenSource(r.token);
  else if (r.tokenFile !== undefined) token = await fileTokenSource(r.tokenFile);
  return {
    server: r.server,
    source: paths.join(delimiter),
    ...(r.namespace !== undefined ? { namespace: r.namespace } : {}),
    tls: {
      ...(ca !== undefined ? { ca } : {}),
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
      rejectUnauthorized: !r.insecureSkipTlsVerify,
      ...(r.tlsServerName !== undefined ? { servername: r.tlsServerName } : {}),
    },
    ...(token !== undefined ? { token } : {}),
    ...(r.basic !== undefined ? { basic: r.basic } : {}),
    ...(r.impersonate !== undefined ? { impersonate: r.impersonate } : {}),
  };
}

async function readMaterial(m: Material, what: string): Promise<Buffer> {
  if (m.kind === 'data') return m.data;
  try {
    return await readFile(m.path);
  } catch (e) {
    throw configError(`${what}: cannot read ${m.path}: ${(e as Error).message}`, e);
  }
}
