import { AppError } from '../errors.js';
import { DNS1123_SUBDOMAIN } from '../profiles/api-names.js';

const SUBDOMAIN = new RegExp(DNS1123_SUBDOMAIN);
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Directory under the kubelet's seccomp root that belongs to the operator. */
export const OPERATOR_DIR = 'operator';

export interface ProfileLocation {
  /** What pods put in `localhostProfile`: relative to `<kubelet-dir>/seccomp`. */
  readonly localhostProfile: string;
  /** Path segments below the seccomp root, each already validated. */
  readonly segments: readonly [string, string, string];
}

/**
 * Where a profile lives on disk. Names are checked here, not only by the CRD schema: this is the last point
 * before a path is built, and a name like `..` or one with `/` must never reach the filesystem.
 */
export function profileLocation(namespace: string, name: string): ProfileLocation {
  if (namespace.length > 63 || !LABEL.test(namespace)) {
    throw new AppError(
      'ERR_INVALID_PROFILE',
      `namespace "${namespace}" is not a DNS-1123 label; refusing to build a path`,
    );
  }
  if (name.length > 253 || !SUBDOMAIN.test(name)) {
    throw new AppError(
      'ERR_INVALID_PROFILE',
      `profile name "${name}" is not a DNS-1123 name; refusing to build a path`,
    );
  }
  const file = `${name}.json`;
  return {
    localhostProfile: `${OPERATOR_DIR}/${namespace}/${file}`,
    segments: [OPERATOR_DIR, namespace, file],
  };
}

/** The seccomp root the kubelet reads profiles from. */
export function seccompRoot(kubeletDir: string): string {
  return `${kubeletDir.replace(/\/+$/, '')}/seccomp`;
}

/** The file content the daemon writes: stable key order and formatting, so "unchanged" is a byte comparison. */
export function renderProfileFile(raw: object): string {
  return `${JSON.stringify(raw, null, 2)}\n`;
}
