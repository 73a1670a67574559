import { AppError } from '../errors.js';
import { SECCOMP_PROFILE_API_VERSION } from './api-names.js';
import type { RawSeccompProfile, SeccompProfile, SeccompProfileSpec } from './types.js';

/** The OCI seccomp JSON for a spec whose base profile has already been resolved (see base.ts). */
export function specToRaw(spec: SeccompProfileSpec): RawSeccompProfile {
  if (spec.baseProfileName !== undefined) {
    throw new AppError(
      'ERR_BASE_PROFILE',
      `baseProfileName "${spec.baseProfileName}" must be resolved before writing raw seccomp JSON; ` +
        'pass the base profile with --base FILE, or write the SeccompProfile resource instead',
    );
  }
  return {
    defaultAction: spec.defaultAction,
    ...(spec.architectures !== undefined ? { architectures: [...spec.architectures] } : {}),
    ...(spec.syscalls !== undefined ? { syscalls: structuredClone(spec.syscalls) } : {}),
    ...(spec.flags !== undefined ? { flags: [...spec.flags] } : {}),
  };
}

// Fields of the runtime format a SeccompProfile cannot carry: refusing them beats dropping them silently.
const RAW_ONLY = ['defaultErrnoRet', 'listenerPath', 'listenerMetadata'] as const;

export function rawToSpec(raw: RawSeccompProfile): SeccompProfileSpec {
  const unsupported = RAW_ONLY.filter((key) => raw[key] !== undefined);
  if (unsupported.length > 0) {
    throw new AppError(
      'ERR_INVALID_PROFILE',
      `${unsupported.join(', ')}: not representable in a SeccompProfile resource; remove the field to convert`,
    );
  }
  return {
    defaultAction: raw.defaultAction,
    ...(raw.architectures !== undefined ? { architectures: [...raw.architectures] } : {}),
    ...(raw.syscalls !== undefined ? { syscalls: structuredClone(raw.syscalls) } : {}),
    ...(raw.flags !== undefined ? { flags: [...raw.flags] } : {}),
  };
}

export interface ResourceMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export function seccompProfileResource(meta: ResourceMeta, spec: SeccompProfileSpec): SeccompProfile {
  return {
    apiVersion: SECCOMP_PROFILE_API_VERSION,
    kind: 'SeccompProfile',
    metadata: {
      name: meta.name,
      ...(meta.namespace !== undefined ? { namespace: meta.namespace } : {}),
      ...(meta.labels !== undefined ? { labels: { ...meta.labels } } : {}),
      ...(meta.annotations !== undefined ? { annotations: { ...meta.annotations } } : {}),
    },
    spec,
  };
}

/** File names become resource names: lower-case, invalid runs replaced by "-", trimmed to a DNS-1123 name. */
export function nameFromFileName(fileName: string): string {
  const stem = fileName.replace(/^.*\//, '').replace(/\.(json|ya?ml)$/i, '');
  const name = stem
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253);
  return name === '' ? 'profile' : name;
}
