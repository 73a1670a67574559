import { type TSchema, Type } from '@sinclair/typebox';
import {
  API_GROUP,
  DNS1123_SUBDOMAIN,
  NODE_STATUS_API_VERSION,
  PROFILE_BINDING_API_VERSION,
  PROFILE_RECORDING_API_VERSION,
  SECCOMP_PROFILE_API_VERSION,
} from './api-names.js';

// Enumerations are plain `enum` string schemas rather than unions of literals: the CRD openAPI schema has no
// `const`/`anyOf` support worth relying on, and ajv reports a single "must be one of" message for `enum`.
function stringEnum<T extends string>(values: readonly T[], description: string) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], description });
}

export {
  API_GROUP,
  DNS1123_SUBDOMAIN,
  NODE_STATUS_API_VERSION,
  PROFILE_BINDING_API_VERSION,
  PROFILE_RECORDING_API_VERSION,
  SECCOMP_PROFILE_API_VERSION,
} from './api-names.js';

export const ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const;

export const ARCHITECTURES = [
  'SCMP_ARCH_NATIVE',
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
] as const;

export const FLAGS = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
] as const;

export const OPERATORS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;

export const PROFILE_STATES = [
  'Pending',
  'InProgress',
  'Installed',
  'Terminating',
  'Error',
  'Partial',
  'Disabled',
] as const;

/** Kubernetes object names that become file names: DNS-1123 subdomain, so no `/`, `..` or upper case. */
/** Syscall names as libseccomp spells them. */
export const SYSCALL_NAME = '^[a-z_][a-z0-9_]*$';

export const ActionSchema = stringEnum(ACTIONS, 'seccomp action (libseccomp SCMP_ACT_*)');
export const ArchitectureSchema = stringEnum(ARCHITECTURES, 'seccomp architecture (libseccomp SCMP_ARCH_*)');
export const FlagSchema = stringEnum(FLAGS, 'seccomp filter flag');
export const OperatorSchema = stringEnum(OPERATORS, 'argument comparison (libseccomp SCMP_CMP_*)');

// uint64 in the runtime spec; JSON numbers are exact up to 2^53, which covers every flag and fd value in practice.
export const ArgSchema = Type.Object(
  {
    index: Type.Integer({ minimum: 0, maximum: 5, description: 'argument position, 0 to 5' }),
    value: Type.Optional(Type.Integer({ minimum: 0, format: 'int64' })),
    valueTwo: Type.Optional(Type.Integer({ minimum: 0, format: 'int64' })),
    op: OperatorSchema,
  },
  { additionalProperties: false },
);

export const SyscallSchema = Type.Object(
  {
    names: Type.Array(Type.String({ pattern: SYSCALL_NAME, minLength: 1, maxLength: 64 }), {
      minItems: 1,
      'x-kubernetes-list-type': 'set',
    }),
    action: ActionSchema,
    errnoRet: Type.Optional(Type.Integer({ minimum: 0, maximum: 4095 })),
    args: Type.Optional(Type.Array(ArgSchema, { maxItems: 6, 'x-kubernetes-list-type': 'atomic' })),
  },
  { additionalProperties: false },
);

const profileBody = {
  defaultAction: ActionSchema,
  architectures: Type.Optional(Type.Array(ArchitectureSchema, { 'x-kubernetes-list-type': 'set' })),
  syscalls: Type.Optional(Type.Array(SyscallSchema, { 'x-kubernetes-list-type': 'atomic' })),
  flags: Type.Optional(Type.Array(FlagSchema, { 'x-kubernetes-list-type': 'set' })),
};

export const SeccompProfileSpecSchema = Type.Object(
  {
    ...profileBody,
    baseProfileName: Type.Optional(
      Type.String({
        pattern: DNS1123_SUBDOMAIN,
        maxLength: 253,
        description: 'a SeccompProfile in the same namespace, or a built-in base such as runc-v1.1.5',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The OCI / Docker seccomp JSON that runc and crun load; what the daemon writes to disk. */
export const RawSeccompProfileSchema = Type.Object(
  {
    ...profileBody,
    defaultErrnoRet: Type.Optional(Type.Integer({ minimum: 0, maximum: 4095 })),
    listenerPath: Type.Optional(Type.String()),
    listenerMetadata: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const ConditionSchema = Type.Object({
  type: Type.String(),
  status: stringEnum(['True', 'False', 'Unknown'] as const, 'condition status'),
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  lastTransitionTime: Type.Optional(Type.String({ format: 'date-time' })),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
});

export const SeccompProfileStatusSchema = Type.Object({
  status: Type.Optional(stringEnum(PROFILE_STATES, 'aggregate state over every node')),
  localhostProfile: Type.Optional(Type.String()),
  path: Type.Optional(Type.String()),
  activeWorkloads: Type.Optional(Type.Array(Type.String(), { 'x-kubernetes-list-type': 'set' })),
  conditions: Type.Optional(
    Type.Array(ConditionSchema, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  ),
});

const ActiveWorkloadsStatusSchema = Type.Object({
  activeWorkloads: Type.Optional(Type.Array(Type.String(), { 'x-kubernetes-list-type': 'set' })),
});

const LabelSelectorRequirementSchema = Type.Object(
  {
    key: Type.String({ minLength: 1 }),
    operator: stringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const, 'label selector operator'),
    values: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

export const LabelSelectorSchema = Type.Object(
  {
    matchLabels: Type.Optional(Type.Record(Type.String(), Type.String())),
    matchExpressions: Type.Optional(Type.Array(LabelSelectorRequirementSchema)),
  },
  { additionalProperties: false },
);

export const ProfileBindingSpecSchema = Type.Object(
  {
    profileRef: Type.Object(
      {
        kind: stringEnum(['SeccompProfile'] as const, 'kind of the bound profile'),
        name: Type.String({ minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN }),
      },
      { additionalProperties: false },
    ),
    image: Type.String({
      minLength: 1,
      description: 'image reference, or "*" for every container no other binding matched',
    }),
    podSelector: Type.Optional(LabelSelectorSchema),
  },
  { additionalProperties: false },
);

export const ProfileRecordingSpecSchema = Type.Object(
  {
    kind: stringEnum(['SeccompProfile'] as const, 'kind of profile to record'),
    // `hook` is the seeds' OCI-hook recorder; containerd runs no OCI hooks, so it records through the eBPF recorder.
    recorder: stringEnum(
      ['bpf', 'logs', 'hook'] as const,
      'how syscalls are captured (hook records like bpf)',
    ),
    podSelector: LabelSelectorSchema,
    containers: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 }), {
        'x-kubernetes-list-type': 'set',
      }),
    ),
    mergeStrategy: Type.Optional(stringEnum(['none', 'containers'] as const, 'merge per-replica profiles')),
    disableProfileAfterRecording: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const MetadataSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN }),
  namespace: Type.Optional(
    Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
  ),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
});

function resource<S extends TSchema, T extends TSchema>(
  apiVersion: string,
  kind: string,
  spec: S,
  status: T,
) {
  return Type.Object({
    apiVersion: Type.Unsafe<string>({ type: 'string', enum: [apiVersion] }),
    kind: Type.Unsafe<string>({ type: 'string', enum: [kind] }),
    metadata: MetadataSchema,
    spec,
    status: Type.Optional(status),
  });
}

export const SeccompProfileSchema = resource(
  SECCOMP_PROFILE_API_VERSION,
  'SeccompProfile',
  SeccompProfileSpecSchema,
  SeccompProfileStatusSchema,
);
export const ProfileBindingSchema = resource(
  PROFILE_BINDING_API_VERSION,
  'ProfileBinding',
  ProfileBindingSpecSchema,
  ActiveWorkloadsStatusSchema,
);
export const ProfileRecordingSchema = resource(
  PROFILE_RECORDING_API_VERSION,
  'ProfileRecording',
  ProfileRecordingSpecSchema,
  ActiveWorkloadsStatusSchema,
);

/**
 * One node's view of one profile. Each daemon writes only its own objects, so nodes never race on a shared
 * status; the manager rolls them up into the profile's status.
 */
export const NodeStatusFieldsSchema = {
  nodeName: Type.String({ minLength: 1, maxLength: 253 }),
  profileName: Type.String({ minLength: 1, maxLength: 253 }),
  status: stringEnum(PROFILE_STATES, 'state of the profile on this node'),
  message: Type.Optional(Type.String({ maxLength: 4096 })),
  profileGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
};

export const SecurityProfileNodeStatusSchema = Type.Object({
  apiVersion: Type.Unsafe<string>({ type: 'string', enum: [NODE_STATUS_API_VERSION] }),
  kind: Type.Unsafe<string>({ type: 'string', enum: ['SecurityProfileNodeStatus'] }),
  metadata: MetadataSchema,
  ...NodeStatusFieldsSchema,
});

export const SPOD_API_VERSION = `${API_GROUP}/v1alpha1`;
export const SPOD_STATES = ['Pending', 'Creating', 'Updating', 'Running', 'Error'] as const;
export const SPOD_WEBHOOK_NAMES = ['binding.spo.io', 'recording.spo.io'] as const;

/**
 * An absolute path of plain segments: no `.` or `..` (the path becomes a hostPath volume, so it must not wander),
 * no whitespace or shell characters. The apiserver checks it with this CEL rule; spodConfig() repeats it.
 */
export const HOST_PATH_RULE =
  "self.matches('^/[-A-Za-z0-9._+@~/]*$') && !self.split('/').exists(s, s == '.' || s == '..')";

export const SpodWebhookOptionSchema = Type.Object(
  {
    name: stringEnum(SPOD_WEBHOOK_NAMES, 'the webhook of spo-mutating-webhook-configuration to adjust'),
    failurePolicy: Type.Optional(
      stringEnum(['Fail', 'Ignore'] as const, 'what the apiserver does when the webhook cannot answer'),
    ),
    namespaceSelector: Type.Optional(
      Type.Object(LabelSelectorSchema.properties, {
        additionalProperties: false,
        description:
          'replaces the opt-in label selector; system namespaces and the operator namespace stay excluded',
      }),
    ),
  },
  { additionalProperties: false },
);

export const SpodSpecSchema = Type.Object(
  {
    verbosity: Type.Optional(
      Type.Unsafe<0 | 1>({
        type: 'integer',
        enum: [0, 1],
        default: 0,
        description: 'log verbosity: 0 (info, the default) or 1 (debug)',
      }),
    ),
    enableBpfRecorder: Type.Optional(
      Type.Boolean({ default: false, description: 'run the eBPF recorder (container bpf-recorder)' }),
    ),
    enableLogEnricher: Type.Optional(
      Type.Boolean({ default: false, description: 'run the log enricher (container log-enricher)' }),
    ),
    enableProfiling: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'serve CPU and memory profiles (ports 6060 daemon, 6061 enricher, 6062 recorder)',
      }),
    ),
    hostProcVolumePath: Type.Optional(
      Type.String({
        default: '/proc',
        minLength: 1,
        maxLength: 1024,
        description: "the node's /proc as seen from the node (nested clusters such as kind use another path)",
        'x-kubernetes-validations': [
          {
            rule: HOST_PATH_RULE,
            message:
              "must be an absolute path of letters, digits and -._+@~ without '.' or '..' segments, e.g. /proc or /host/proc",
          },
        ],
      }),
    ),
    webhookOptions: Type.Optional(
      Type.Array(SpodWebhookOptionSchema, {
        maxItems: 2,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

export const SpodStatusSchema = Type.Object({
  state: Type.Optional(stringEnum(SPOD_STATES, 'rollout state of the node DaemonSet spod')),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(
    Type.Array(ConditionSchema, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  ),
});

export const SecurityProfilesOperatorDaemonSchema = Type.Object({
  apiVersion: Type.Unsafe<string>({ type: 'string', enum: [SPOD_API_VERSION] }),
  kind: Type.Unsafe<string>({ type: 'string', enum: ['SecurityProfilesOperatorDaemon'] }),
  metadata: MetadataSchema,
  spec: Type.Optional(SpodSpecSchema),
  status: Type.Optional(SpodStatusSchema),
});
