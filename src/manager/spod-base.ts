import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { AppError } from '../errors.js';
import { SPOD_NAME } from './spod-render.js';

const MANIFEST = join('manifests', 'base', 'daemon-daemonset.yaml');
/** What manifests/base/kustomization.yaml makes of the image name `seccomp-profiles-operator`. */
export const DEFAULT_SPOD_IMAGE = 'localhost/seccomp-profiles-operator:latest';

/** manifests/base/daemon-daemonset.yaml from the source tree or the image (/opt/seccomp-profiles-operator). */
export function findBaseManifest(from: string = import.meta.dirname): string | undefined {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, MANIFEST);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/**
 * The DaemonSet of the manifests, as `kubectl apply -k manifests` would create it in `namespace`: what the
 * manager creates when the cluster has none. Parsing is separate from reading so it can be tested on text.
 */
export function parseBaseDaemonSet(text: string, namespace: string, image: string): V1DaemonSet {
  const ds = parseAllDocuments(text)
    .map((d) => d.toJS() as V1DaemonSet | null)
    .find((d) => d?.kind === 'DaemonSet' && d.metadata?.name === SPOD_NAME);
  if (ds?.spec === undefined) throw new AppError('ERR_CONFIG', `no DaemonSet ${SPOD_NAME} in ${MANIFEST}`);
  ds.metadata = {
    ...ds.metadata,
    namespace,
    labels: { ...ds.metadata?.labels, 'app.kubernetes.io/part-of': 'seccomp-profiles-operator' },
  };
  for (const c of ds.spec.template.spec?.containers ?? []) {
    if (c.image === 'seccomp-profiles-operator') c.image = image;
  }
  return ds;
}

export function loadBaseDaemonSet(namespace: string, image: string): V1DaemonSet {
  const file = findBaseManifest();
  if (file === undefined) {
    throw new AppError(
      'ERR_CONFIG',
      `DaemonSet ${SPOD_NAME} does not exist in ${namespace} and ${MANIFEST} is not installed: ` +
        'apply the manifests (kubectl apply -k manifests)',
    );
  }
  return parseBaseDaemonSet(readFileSync(file, 'utf8'), namespace, image);
}
