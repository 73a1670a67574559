import { AppError } from '../errors.js';

/** Tried in order when SPO_CRI_ENDPOINT is not set (DESIGN "Node side"). */
export const CRI_SOCKETS = [
  '/run/containerd/containerd.sock',
  '/run/crio/crio.sock',
  '/var/run/crio/crio.sock',
  '/var/run/containerd/containerd.sock',
  '/run/k3s/containerd/containerd.sock',
] as const;

/** `unix:///path`, from SPO_CRI_ENDPOINT or the first socket that exists. */
export function chooseCriEndpoint(env: NodeJS.ProcessEnv, socketExists: (path: string) => boolean): string {
  const set = env['SPO_CRI_ENDPOINT'];
  if (set !== undefined && set !== '') {
    if (set.startsWith('unix://')) return set;
    if (set.startsWith('/')) return `unix://${set}`;
    throw new AppError('ERR_CONFIG', `SPO_CRI_ENDPOINT=${set}: expected unix:///path/to/socket`);
  }
  const found = CRI_SOCKETS.find(socketExists);
  if (found === undefined) {
    throw new AppError(
      'ERR_CRI_ENDPOINT',
      `CRI endpoint not found (tried ${CRI_SOCKETS.join(', ')}): set SPO_CRI_ENDPOINT=unix:///path/to/socket ` +
        'and mount the runtime socket into the container',
    );
  }
  return `unix://${found}`;
}

/** The socket path of a `unix://` endpoint. */
export function endpointPath(endpoint: string): string {
  return endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : endpoint;
}
