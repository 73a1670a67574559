import { createHash } from 'node:crypto';
import type {
  V1Container,
  V1DaemonSet,
  V1EnvVar,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { DEFAULT_PROFILING_PORTS, type Role } from '../config/role.js';
import { AppError } from '../errors.js';

export const SPOD_NAME = 'spod';
export const DAEMON_CONTAINER = 'daemon';
export const RECORDER_CONTAINER = 'bpf-recorder';
export const ENRICHER_CONTAINER = 'log-enricher';
/** On the pod template: any change of the configuration changes it, so the pods roll. */
export const CONFIG_HASH_ANNOTATION = 'spo.x-k8s.io/spod-config-hash';

/** The spod spec with every default filled in. */
export interface SpodConfig {
  readonly verbosity: 0 | 1;
  readonly enableBpfRecorder: boolean;
  readonly enableLogEnricher: boolean;
  readonly enableProfiling: boolean;
  readonly hostProcVolumePath: string;
}

export const DEFAULT_SPOD_CONFIG: SpodConfig = {
  verbosity: 0,
  enableBpfRecorder: false,
  enableLogEnricher: false,
  enableProfiling: false,
  hostProcVolumePath: '/proc',
};

/** What spodConfig() reads; the CRD schema has already checked the types, this re-checks what it can cheaply. */
export interface SpodSpecInput {
  readonly verbosity?: number | undefined;
  readonly enableBpfRecorder?: boolean | undefined;
  readonly enableLogEnricher?: boolean | undefined;
  readonly enableProfiling?: boolean | undefined;
  readonly hostProcVolumePath?: string | undefined;
}

const SEGMENT_CHARS = /^\/[-A-Za-z0-9._+@~/]*$/;

/** Same rule as the CRD's CEL check (HOST_PATH_RULE): absolute, plain characters, no `.` or `..` segment. */
export function isPlainAbsolutePath(path: string): boolean {
  return (
    path.length <= 1024 &&
    SEGMENT_CHARS.test(path) &&
    !path.split('/').some((segment) => segment === '.' || segment === '..')
  );
}

/** Defaults in, and a clear error for anything the apiserver should already have refused. */
export function spodConfig(spec: SpodSpecInput | undefined): SpodConfig {
  const s = spec ?? {};
  const verbosity = s.verbosity ?? DEFAULT_SPOD_CONFIG.verbosity;
  if (verbosity !== 0 && verbosity !== 1)
    throw new AppError('ERR_CONFIG', `spec.verbosity must be 0 or 1, not ${verbosity}`);
  const hostProcVolumePath = s.hostProcVolumePath ?? DEFAULT_SPOD_CONFIG.hostProcVolumePath;
  if (!isPlainAbsolutePath(hostProcVolumePath)) {
    throw new AppError(
      'ERR_CONFIG',
      `spec.hostProcVolumePath "${hostProcVolumePath}" must be an absolute path of letters, digits and -._+@~ ` +
        "without '.' or '..' segments, e.g. /proc or /host/proc",
    );
  }
  return {
    verbosity,
    enableBpfRecorder: s.enableBpfRecorder ?? false,
    enableLogEnricher: s.enableLogEnricher ?? false,
    enableProfiling: s.enableProfiling ?? false,
    hostProcVolumePath,
  };
}

// Bump when the rendering of an unchanged configuration changes, so existing pods pick the new shape up.
const RENDER_VERSION = 2;

/** Short, stable digest of the configuration (key order cannot change it). */
export function configHash(config: SpodConfig): string {
  const canonical = JSON.stringify({
    renderVersion: RENDER_VERSION,
    verbosity: config.verbosity,
    enableBpfRecorder: config.enableBpfRecorder,
    enableLogEnricher: config.enableLogEnricher,
    enableProfiling: config.enableProfiling,
    hostProcVolumePath: config.hostProcVolumePath,
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

export const SOCKET_DIR = '/var/run/seccomp-profiles-operator';
export const RECORDER_SOCKET = `${SOCKET_DIR}/recorder.sock`;
export const ENRICHER_SOCKET = `${SOCKET_DIR}/enricher.sock`;
const HOST_PROC_MOUNT = '/host/proc';
const HOST_CGROUP_MOUNT = '/host/sys/fs/cgroup';
const RECORDER_STATE_DIR = '/var/lib/seccompctl/recorder';
// The host's bpffs, at the same path: the pinned program and maps outlive the container (a restart, an upgrade).
const HOST_BPFFS = '/sys/fs/bpf';
const RECORDER_PIN_DIR = `${HOST_BPFFS}/seccompctl-recorder`;
const ENRICHER_PORT = 8086;
const DEFAULT_CRI_ENDPOINT = 'unix:///run/containerd/containerd.sock';

/** Volumes the render owns: removed from the base and added back as the configuration asks. */
const VOLUMES = {
  sockets: 'spod-sockets',
  hostProc: 'host-proc',
  hostCgroup: 'host-cgroup',
  recorderState: 'recorder-state',
  hostBpffs: 'host-bpffs',
  criSocket: 'cri-socket',
  hostLogs: 'host-logs',
} as const;
const MANAGED_VOLUMES: ReadonlySet<string> = new Set(Object.values(VOLUMES));
const MANAGED_CONTAINERS: ReadonlySet<string> = new Set([RECORDER_CONTAINER, ENRICHER_CONTAINER]);

/** Daemon flags the render owns; `true` marks those that take a value (`--flag value` or `--flag=value`). */
const MANAGED_FLAGS: ReadonlyMap<string, boolean> = new Map([
  ['--verbosity', true],
  ['--enable-profiling', false],
  ['--profiling-port', true],
  ['--recorder-socket', true],
  ['--enricher-socket', true],
]);

/** Settings of the daemon container the recorder and enricher take over, so one overlay configures all. */
const INHERITED_ENV = ['SPO_CRI_ENDPOINT', 'SPO_CRI_CGROUP_FIELDS', 'SPO_BTF_FILE'] as const;

function withoutManagedFlags(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const takesValue = MANAGED_FLAGS.get(flag);
    if (takesValue === undefined) {
      out.push(arg);
      continue;
    }
    if (takesValue && eq === -1) i++;
  }
  return out;
}

function roleFlags(role: Role, config: SpodConfig): string[] {
  return [
    `--verbosity=${config.verbosity}`,
    ...(config.enableProfiling
      ? ['--enable-profiling', `--profiling-port=${DEFAULT_PROFILING_PORTS[role]}`]
      : []),
  ];
}

function socketPathOf(endpoint: string): string {
  const path = endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : endpoint;
  if (!isPlainAbsolutePath(path)) {
    throw new AppError(
      'ERR_CONFIG',
      `SPO_CRI_ENDPOINT "${endpoint}" on container ${DAEMON_CONTAINER} of DaemonSet ${SPOD_NAME} is not ` +
        'unix:///absolute/path/to/socket',
    );
  }
  return path;
}

const fieldEnv = (name: string, fieldPath: string): V1EnvVar => ({
  name,
  valueFrom: { fieldRef: { fieldPath } },
});

interface NodeContainerParts {
  readonly image: string;
  readonly imagePullPolicy: string | undefined;
  readonly inheritedEnv: readonly V1EnvVar[];
  readonly seLinuxOptions: V1SecurityContext['seLinuxOptions'];
  readonly criSocketVolume: string;
  readonly criSocketPath: string;
}

function securityContext(parts: NodeContainerParts, add: readonly string[]): V1SecurityContext {
  return {
    runAsUser: 0,
    runAsNonRoot: false,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'], ...(add.length > 0 ? { add: [...add] } : {}) },
    ...(parts.seLinuxOptions !== undefined ? { seLinuxOptions: { ...parts.seLinuxOptions } } : {}),
  };
}

function nodeEnv(parts: NodeContainerParts, own: readonly V1EnvVar[]): V1EnvVar[] {
  const ownNames = new Set(own.map((e) => e.name));
  return [
    fieldEnv('NODE_NAME', 'spec.nodeName'),
    ...own,
    ...parts.inheritedEnv.filter((e) => !ownNames.has(e.name)),
  ];
}

function recorderContainer(config: SpodConfig, parts: NodeContainerParts): V1Container {
  return {
    name: RECORDER_CONTAINER,
    image: parts.image,
    ...(parts.imagePullPolicy !== undefined ? { imagePullPolicy: parts.imagePullPolicy } : {}),
    args: [
      'recorder',
      `--socket=${RECORDER_SOCKET}`,
      `--state-dir=${RECORDER_STATE_DIR}`,
      `--bpf-pin-dir=${RECORDER_PIN_DIR}`,
      ...roleFlags('recorder', config),
    ],
    env: nodeEnv(parts, [
      { name: 'SPO_PROC_BASE', value: HOST_PROC_MOUNT },
      { name: 'SPO_CGROUP_BASE', value: HOST_CGROUP_MOUNT },
      { name: 'SPO_CRI_ENDPOINT', value: `unix://${parts.criSocketPath}` },
    ]),
    resources: { requests: { cpu: '20m', memory: '96Mi' }, limits: { memory: '256Mi' } },
    // BPF, PERFMON and SYS_RESOURCE load and attach the program; SYS_ADMIN because the start-up self-test runs
    // a child in a fresh mount namespace (unshare(CLONE_NEWNS)). Root so the socket (0600) and state are ours.
    securityContext: securityContext(parts, ['BPF', 'PERFMON', 'SYS_RESOURCE', 'SYS_ADMIN']),
    volumeMounts: [
      { name: VOLUMES.sockets, mountPath: SOCKET_DIR },
      { name: VOLUMES.recorderState, mountPath: RECORDER_STATE_DIR },
      // HostToContainer: a bpffs the node mounts after the pod started is seen too
      { name: VOLUMES.hostBpffs, mountPath: HOST_BPFFS, mountPropagation: 'HostToContainer' },
      { name: VOLUMES.hostProc, mountPath: HOST_PROC_MOUNT, readOnly: true },
      { name: VOLUMES.hostCgroup, mountPath: HOST_CGROUP_MOUNT, readOnly: true },
      { name: parts.criSocketVolume, mountPath: parts.criSocketPath, readOnly: true },
    ],
  };
}

function enricherContainer(config: SpodConfig, parts: NodeContainerParts): V1Container {
  return {
    name: ENRICHER_CONTAINER,
    image: parts.image,
    ...(parts.imagePullPolicy !== undefined ? { imagePullPolicy: parts.imagePullPolicy } : {}),
    args: [
      'enricher',
      `--socket=${ENRICHER_SOCKET}`,
      `--port=${ENRICHER_PORT}`,
      ...roleFlags('enricher', config),
    ],
    env: nodeEnv(parts, [
      { name: 'SPO_PROC_BASE', value: HOST_PROC_MOUNT },
      { name: 'SPO_CRI_ENDPOINT', value: `unix://${parts.criSocketPath}` },
    ]),
    ports: [{ name: 'enricher', containerPort: ENRICHER_PORT }],
    livenessProbe: { httpGet: { path: '/healthz', port: 'enricher' }, periodSeconds: 10 },
    readinessProbe: { httpGet: { path: '/readyz', port: 'enricher' }, periodSeconds: 5 },
    resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { memory: '192Mi' } },
    // Root reads the root-owned audit log (auditd) or syslog through a read-only mount; no capability at all.
    securityContext: securityContext(parts, []),
    volumeMounts: [
      { name: VOLUMES.sockets, mountPath: SOCKET_DIR },
      { name: VOLUMES.hostLogs, mountPath: '/var/log', readOnly: true },
      { name: VOLUMES.hostProc, mountPath: HOST_PROC_MOUNT, readOnly: true },
      { name: parts.criSocketVolume, mountPath: parts.criSocketPath, readOnly: true },
    ],
  };
}

export interface RenderOptions {
  /** The image of the recorder and enricher; default the daemon container's (one image serves every role). */
  readonly image?: string | undefined;
}

/**
 * The DaemonSet the configuration asks for, from `base`: the DaemonSet as it is in the cluster (so overlays
 * such as openshift/ survive) or, when there is none yet, the one in the manifests. Only what the render owns
 * is replaced (the bpf-recorder and log-enricher containers, the daemon's verbosity/profiling/socket flags,
 * the volumes in VOLUMES, hostPID, the hash annotation), so rendering a rendered DaemonSet again gives the same
 * result. Pure and deterministic.
 */
export function renderDaemonSet(
  config: SpodConfig,
  base: V1DaemonSet,
  options: RenderOptions = {},
): V1DaemonSet {
  const podSpec = base.spec?.template.spec;
  const daemon = podSpec?.containers.find((c) => c.name === DAEMON_CONTAINER);
  if (base.spec === undefined || podSpec === undefined || daemon === undefined) {
    throw new AppError(
      'ERR_CONFIG',
      `DaemonSet ${SPOD_NAME} has no container "${DAEMON_CONTAINER}": restore it from manifests/base/daemon-daemonset.yaml`,
    );
  }
  const recorder = config.enableBpfRecorder;
  const enricher = config.enableLogEnricher;
  const nodeRoles = recorder || enricher;

  const daemonEnv = new Map((daemon.env ?? []).map((e) => [e.name, e]));
  const criEndpoint = daemonEnv.get('SPO_CRI_ENDPOINT')?.value ?? DEFAULT_CRI_ENDPOINT;
  const criSocketPath = socketPathOf(criEndpoint);
  const baseVolumes = (podSpec.volumes ?? []).filter((v) => !MANAGED_VOLUMES.has(v.name));
  // An overlay that already mounts the socket (openshift/: crio-sock) keeps its volume.
  const overlaySocket = baseVolumes.find((v) => v.hostPath?.path === criSocketPath);
  const parts: NodeContainerParts = {
    image: options.image ?? daemon.image ?? '',
    imagePullPolicy: daemon.imagePullPolicy,
    inheritedEnv: INHERITED_ENV.flatMap((name) => {
      const e = daemonEnv.get(name);
      return e === undefined ? [] : [structuredClone(e)];
    }),
    seLinuxOptions: daemon.securityContext?.seLinuxOptions,
    criSocketVolume: overlaySocket?.name ?? VOLUMES.criSocket,
    criSocketPath,
  };

  const daemonMounts: V1VolumeMount[] = [
    ...(daemon.volumeMounts ?? []).filter((m) => !MANAGED_VOLUMES.has(m.name)).map((m) => structuredClone(m)),
    ...(nodeRoles ? [{ name: VOLUMES.sockets, mountPath: SOCKET_DIR }] : []),
  ];
  const renderedDaemon: V1Container = {
    ...structuredClone(daemon),
    args: [
      ...withoutManagedFlags(daemon.args ?? []),
      ...roleFlags('daemon', config),
      ...(recorder ? [`--recorder-socket=${RECORDER_SOCKET}`] : []),
      // Without it the enricher runs but `recorder: logs` recordings are never collected on the node.
      ...(enricher ? [`--enricher-socket=${ENRICHER_SOCKET}`] : []),
    ],
    volumeMounts: daemonMounts,
  };
  const containers: V1Container[] = [
    ...podSpec.containers
      .filter((c) => !MANAGED_CONTAINERS.has(c.name))
      .map((c) => (c.name === DAEMON_CONTAINER ? renderedDaemon : structuredClone(c))),
    ...(recorder ? [recorderContainer(config, parts)] : []),
    ...(enricher ? [enricherContainer(config, parts)] : []),
  ];

  const hostPath = (name: string, path: string, type: string): V1Volume => ({
    name,
    hostPath: { path, type },
  });
  const volumes: V1Volume[] = [
    ...baseVolumes.map((v) => structuredClone(v)),
    ...(nodeRoles
      ? [
          { name: VOLUMES.sockets, emptyDir: {} },
          hostPath(VOLUMES.hostProc, config.hostProcVolumePath, 'Directory'),
          ...(overlaySocket === undefined ? [hostPath(VOLUMES.criSocket, criSocketPath, 'Socket')] : []),
        ]
      : []),
    ...(recorder
      ? [
          hostPath(VOLUMES.hostCgroup, '/sys/fs/cgroup', 'Directory'),
          hostPath(VOLUMES.recorderState, RECORDER_STATE_DIR, 'DirectoryOrCreate'),
          // Directory, not DirectoryOrCreate: a plain directory there would hold no pins (the recorder says so)
          hostPath(VOLUMES.hostBpffs, HOST_BPFFS, 'Directory'),
        ]
      : []),
    ...(enricher ? [hostPath(VOLUMES.hostLogs, '/var/log', 'Directory')] : []),
  ];

  const template = base.spec.template;
  const { creationTimestamp: _created, ...templateMeta } = structuredClone(template.metadata ?? {});
  const { hostPID: _hostPID, ...restSpec } = structuredClone(podSpec);
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: ownMetadata(base),
    spec: {
      ...structuredClone(base.spec),
      template: {
        metadata: {
          ...templateMeta,
          annotations: { ...templateMeta.annotations, [CONFIG_HASH_ANNOTATION]: configHash(config) },
        },
        spec: {
          ...restSpec,
          // The recorder resolves containers through host /proc entries and excludes the host's mount
          // namespace (/proc/1); the enricher attributes audit records by host PID.
          hostPID: nodeRoles,
          containers,
          volumes,
        },
      },
    },
  };
}

/** The metadata a create or update may carry: what the user and overlays set, nothing the server owns. */
function ownMetadata(base: V1DaemonSet): V1DaemonSet['metadata'] {
  const m = base.metadata ?? {};
  return {
    name: m.name ?? SPOD_NAME,
    ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
    ...(m.labels !== undefined ? { labels: { ...m.labels } } : {}),
    ...(m.annotations !== undefined ? { annotations: { ...m.annotations } } : {}),
    ...(m.ownerReferences !== undefined ? { ownerReferences: structuredClone(m.ownerReferences) } : {}),
    ...(m.finalizers !== undefined ? { finalizers: [...m.finalizers] } : {}),
  };
}

function isEmptyValue(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    v === false ||
    v === '' ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && Object.keys(v).length === 0)
  );
}

/**
 * Whether `have` (an object read back from the apiserver) already holds everything `want` says. The apiserver
 * fills in defaults (protocol: TCP, terminationMessagePath, ...) and drops empty values, so extra keys in
 * `have` and empty values in `want` do not count; lists must match item for item.
 */
export function covers(have: unknown, want: unknown): boolean {
  if (want === undefined) return true;
  if (isEmptyValue(want)) return isEmptyValue(have);
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return false;
    return want.every((w, i) => covers(have[i], w));
  }
  if (typeof want === 'object' && want !== null) {
    if (typeof have !== 'object' || have === null || Array.isArray(have)) return false;
    const h = have as Record<string, unknown>;
    return Object.entries(want as Record<string, unknown>).every(([k, w]) => covers(h[k], w));
  }
  return have === want;
}

/** The summary of a configuration for Events and logs. */
export function describeConfig(config: SpodConfig): string {
  const on = (b: boolean) => (b ? 'on' : 'off');
  return (
    `verbosity ${config.verbosity}, bpf-recorder ${on(config.enableBpfRecorder)}, ` +
    `log-enricher ${on(config.enableLogEnricher)}, profiling ${on(config.enableProfiling)}, ` +
    `host /proc ${config.hostProcVolumePath}`
  );
}
