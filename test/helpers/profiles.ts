import type { ProfileBinding, SeccompProfileSpec, SyscallRule } from '../../src/profiles/types.js';

export const API_VERSION = 'security-profiles-operator.x-k8s.io/v1beta1';

/** A spec that allows `names` and denies the rest with an errno, the shape recordings produce. */
export function allowList(names: string[], extra: Partial<SeccompProfileSpec> = {}): SeccompProfileSpec {
  return { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }], ...extra };
}

export function rule(
  names: string[],
  action: SyscallRule['action'],
  extra: Partial<SyscallRule> = {},
): SyscallRule {
  return { names, action, ...extra };
}

export function resource(spec: unknown, name = 'p1', namespace = 'default') {
  return { apiVersion: API_VERSION, kind: 'SeccompProfile', metadata: { name, namespace }, spec };
}

/** A ProfileBinding of `profile` to `image` in `namespace`. */
export function profileBinding(
  namespace: string,
  name: string,
  image: string,
  profile: string,
  extra: Partial<ProfileBinding['spec']> = {},
): ProfileBinding {
  return {
    apiVersion: 'security-profiles-operator.x-k8s.io/v1alpha1',
    kind: 'ProfileBinding',
    metadata: { name, namespace },
    spec: { profileRef: { kind: 'SeccompProfile', name: profile }, image, ...extra },
  };
}
