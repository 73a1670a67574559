import type { Logger } from 'pino';
import { AppError, isAppError } from '../errors.js';
import { type Informer, type KubeClient, makeRestInformer, PODS, statusOf } from '../k8s/rest/index.js';
import { PROFILE_RECORDINGS, SECCOMP_PROFILES } from '../k8s/resources.js';
import { WorkQueue } from '../manager/work-queue.js';
import { containerSyscalls, profileFromSyscalls } from '../profiles/recorded.js';
import { ARCHES, type Arch } from '../profiles/syscalls/index.js';
import type { ProfileRecording, SeccompProfile } from '../profiles/types.js';
import type { EnricherClient } from '../rpc/enricher-client.js';
import type { RecorderClient } from '../rpc/recorder-client.js';
import { type CachedPod, cachedPod } from './cached-pod.js';
import { DISABLED_LABEL, PARTIAL_LABEL } from './profile-sync.js';
import type { EmitEvent } from './recording-events.js';
import type { RecordingMetrics } from './recording-metrics.js';
import {
  CONTAINER_ID_LABEL,
  fromEnricher,
  isReplica,
  planPod,
  POD_UID_LABEL,
  profileName,
  RECORDING_FINALIZER,
  RECORDING_ID_LABEL,
  type RecordedContainer,
  type RecordedSyscalls,
  type RecorderKind,
  recordingKey,
  UNMERGED_FINALIZER,
  withFinalizer,
} from './recording-plan.js';

export interface RecordingControllerDeps {
  /** The small REST client: the daemon must not load client-node (RSS budget). */
  readonly kube: KubeClient;
  readonly nodeName: string;
  /** The eBPF recorder (`recorder: bpf`); without it, bpf recordings are left to another daemon. */
  readonly recorder?: Pick<RecorderClient, 'arm' | 'disarm' | 'track' | 'collect' | 'release'> | undefined;
  /** The log enricher (`recorder: logs`); without it, logs recordings are left alone. */
  readonly enricher?: Pick<EnricherClient, 'sync' | 'getSyscalls' | 'resetSyscalls'> | undefined;
  readonly events: EmitEvent;
  readonly metrics: RecordingMetrics;
  readonly log: Logger;
  /** Single-namespace mode: only pods in this namespace are watched. */
  readonly namespace?: string | undefined;
}

type Pod = CachedPod;
const MAX_NAME_TRIES = 100;
const POD_PAGE_SIZE = 25;

/**
 * The daemon's recording controller: pods on this node that carry trace-bpf annotations are armed and their
 * containers tracked as soon as they have ids; containers annotated trace-logs run under the log profile and
 * the enricher keeps their audit records. When the pod is over, one SeccompProfile per container is made from
 * what the recorder or the enricher collected, named, labelled and announced the same way for both. A
 * finalizer on the pod keeps it (and so this work) alive across restarts.
 */
export class RecordingController {
  readonly #deps: RecordingControllerDeps;
  readonly #log: Logger;
  readonly #pods: Informer<Pod>;
  readonly #queue: WorkQueue;
  readonly #kube: KubeClient;
  readonly #available: ReadonlySet<RecorderKind>;
  /** Last seen state of pods deleted from the API while we still had work for them. */
  readonly #gone = new Map<string, Pod>();

  constructor(deps: RecordingControllerDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ component: 'recording' });
    this.#kube = deps.kube;
    this.#available = new Set<RecorderKind>([
      ...(deps.recorder !== undefined ? (['bpf'] as const) : []),
      ...(deps.enricher !== undefined ? (['logs'] as const) : []),
    ]);
    const fieldSelector = `spec.nodeName=${deps.nodeName}`;
    this.#pods = makeRestInformer<Pod>(
      deps.kube,
      { ...PODS, ...(deps.namespace !== undefined ? { namespace: deps.namespace } : {}) },
      // A node's pods are many and almost none is recorded: the cache keeps only what planPod() reads. Pods are
      // large (5-15 KB of JSON each): small pages keep a list's whole objects within V8's young generation, so
      // they die there instead of being promoted (the DaemonSet runs with a 1 MiB semi-space).
      { log: this.#log, what: 'pods', fieldSelector, transform: cachedPod, pageSize: POD_PAGE_SIZE },
    );
    this.#queue = new WorkQueue((key) => this.#reconcile(key), this.#log);
    this.#pods.onChange((pod, verb) => {
      if (planPod(pod, this.#available) === undefined) return;
      const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      if (verb === 'delete') this.#gone.set(key, pod);
      else this.#gone.delete(key);
      this.#queue.add(key);
    });
  }

  synced(): boolean {
    return this.#pods.synced();
  }

  async start(): Promise<void> {
    await this.#pods.start();
    for (const pod of this.#pods.cache.list()) {
      if (planPod(pod, this.#available) !== undefined)
        this.#queue.add(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
    }
    this.#queue.start();
  }

  async stop(): Promise<void> {
    this.#queue.stop();
    await this.#pods.stop();
  }

  idle(): Promise<void> {
    return this.#queue.idle();
  }

  async #reconcile(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const live = this.#pods.cache.get(name, namespace);
    const pod = live ?? this.#gone.get(key);
    if (pod === undefined) return;
    const plan = planPod(pod, this.#available);
    if (plan === undefined) return;
    const uid = pod.metadata.uid ?? '';
    const log = this.#log.child({ namespace, pod: name });
    const { recorder } = this.#deps;
    const bpf = recorder !== undefined && plan.recorded.some((r) => r.recorder === 'bpf');

    if (plan.action === 'record' && live !== undefined) {
      if (bpf) await recorder.arm(uid);
      if (pod.metadata.deletionTimestamp == null) {
        const finalizers = withFinalizer(pod.metadata.finalizers, RECORDING_FINALIZER, true);
        if (finalizers !== undefined) {
          await this.#patchPodFinalizers(pod, finalizers);
          this.#deps.events(podRef(pod), 'Normal', 'SeccompProfileRecording', 'Recording seccomp profile');
          log.info(
            {
              containers: plan.recorded.map((r) => r.container),
              recorders: [...new Set(plan.recorded.map((r) => r.recorder))],
            },
            'recording pod',
          );
        }
      }
      if (bpf) await this.#track(recorder, plan.track, plan.recorded, log);
      return;
    }

    // Over: late ids first (a container that lived for a moment was attributed by the recorder already).
    if (bpf) await this.#track(recorder, plan.track, plan.recorded, log);
    let synced = false;
    for (const r of plan.recorded) {
      if (r.recorder === 'bpf') {
        if (recorder === undefined) continue;
        const rkey = recordingKey(pod, r.container);
        let recorded: RecordedSyscalls;
        try {
          const collected = await recorder.collect(rkey);
          const arch = collected.arch as Arch;
          if (!ARCHES.includes(arch))
            throw new AppError('ERR_RPC', `recorder reported unknown architecture ${collected.arch}`);
          recorded = { arches: [arch], syscalls: collected.syscalls, warnings: collected.warnings };
        } catch (err) {
          if (isAppError(err) && err.code === 'ERR_NOT_RECORDED') {
            log.warn({ container: r.container }, 'nothing was recorded for container; no profile');
            continue;
          }
          throw err;
        }
        await this.#saveProfile(pod, r, recorded, log);
        await recorder.release(rkey);
        continue;
      }
      const { enricher } = this.#deps;
      if (enricher === undefined) continue;
      // the enricher reads the audit log on a timer: its last records may not be read yet
      if (!synced) {
        if (!(await enricher.sync()))
          log.warn('the enricher still waits on records of an unknown container; saving what it has');
        synced = true;
      }
      const selector = { recording: r.recording, namespace, pod: name, container: r.container, podUid: uid };
      const recorded = fromEnricher(await enricher.getSyscalls(selector));
      if (recorded === undefined) {
        log.warn(
          { container: r.container },
          'the enricher has no audit records of container; no profile (is auditd or the kernel log rate limiting?)',
        );
        continue;
      }
      await this.#saveProfile(pod, r, recorded, log);
      await enricher.resetSyscalls(selector);
    }
    if (bpf) await recorder.disarm(uid);
    if (live !== undefined) {
      const finalizers = withFinalizer(live.metadata.finalizers, RECORDING_FINALIZER, false);
      if (finalizers !== undefined) await this.#patchPodFinalizers(live, finalizers);
    }
    this.#gone.delete(key);
  }

  async #track(
    recorder: NonNullable<RecordingControllerDeps['recorder']>,
    track: readonly { containerId: string; key: string }[],
    recorded: readonly RecordedContainer[],
    log: Logger,
  ): Promise<void> {
    for (const t of track) {
      try {
        const r = await recorder.track(t.containerId, t.key);
        if (!r.already && r.mountNamespace !== 0) {
          const container = t.key.slice(t.key.lastIndexOf('/') + 1);
          const recording = recorded.find((x) => x.container === container)?.recording ?? '';
          this.#deps.metrics.bpf.inc({
            node: this.#deps.nodeName,
            mount_namespace: String(r.mountNamespace),
            profile: `${recording}-${container}`,
          });
          log.info(
            { containerId: t.containerId, mntns: r.mountNamespace, method: r.method },
            'tracking container',
          );
        }
      } catch (err) {
        // an exited container nobody saw start: nothing to record for it
        if (isAppError(err) && err.code === 'ERR_CGROUP_NOT_FOUND') {
          log.debug({ containerId: t.containerId, reason: err.message }, 'container not found');
          continue;
        }
        throw err;
      }
    }
  }

  async #saveProfile(pod: Pod, r: RecordedContainer, recorded: RecordedSyscalls, log: Logger): Promise<void> {
    const namespace = pod.metadata.namespace ?? 'default';
    const uid = pod.metadata.uid ?? '';
    const { group, version, plural } = SECCOMP_PROFILES;
    const recording = await this.#getRecording(namespace, r.recording);
    const partial = recording?.spec.mergeStrategy === 'containers';
    // kept for review and installed nowhere until someone removes the label (the merged profile inherits it)
    const disabled = recording?.spec.disableProfileAfterRecording === true;
    const numbered = partial || isReplica(pod);
    const existing = (
      await this.#kube.list<SeccompProfile>({
        group,
        version,
        plural,
        namespace,
        labelSelector: `${RECORDING_ID_LABEL}=${r.recording},${CONTAINER_ID_LABEL}=${r.container}`,
      })
    ).items;
    if (existing.some((p) => p.metadata.labels?.[POD_UID_LABEL] === uid)) {
      log.info({ container: r.container }, 'profile for this pod already saved');
      return;
    }
    if (partial && recording !== undefined) await this.#holdRecording(recording);
    for (const w of recorded.warnings) log.warn({ container: r.container }, w);
    const syscalls = containerSyscalls(recorded.syscalls);
    const taken = new Set(existing.map((p) => p.metadata.name));
    for (let i = 0; i < MAX_NAME_TRIES; i++) {
      const name = profileName(r.recording, r.container, numbered, taken);
      const body = profileFromSyscalls({
        name,
        namespace,
        arch: recorded.arches,
        syscalls,
        labels: {
          [RECORDING_ID_LABEL]: r.recording,
          [CONTAINER_ID_LABEL]: r.container,
          [POD_UID_LABEL]: uid,
          ...(partial ? { [PARTIAL_LABEL]: 'true' } : {}),
          ...(disabled ? { [DISABLED_LABEL]: 'true' } : {}),
        },
      });
      try {
        const saved = (await this.#createOrReplace(body, !numbered)) as SeccompProfile & {
          metadata: { uid?: string };
        };
        this.#deps.events(
          {
            apiVersion: `${group}/${version}`,
            kind: 'SeccompProfile',
            name,
            namespace,
            ...(saved.metadata.uid !== undefined ? { uid: saved.metadata.uid } : {}),
          },
          'Normal',
          'SeccompProfileCreated',
          disabled
            ? 'seccomp profile created, disabled (disableProfileAfterRecording): remove the label spo.x-k8s.io/disabled to install it'
            : 'seccomp profile created',
        );
        log.info(
          {
            profile: name,
            recorder: r.recorder,
            syscalls: syscalls.length,
            recorded: recorded.syscalls.length,
            partial,
            disabled,
          },
          'seccomp profile created',
        );
        return;
      } catch (err) {
        if (numbered && statusOf(err) === 409) {
          taken.add(name);
          continue;
        }
        throw err;
      }
    }
    throw new Error(`no free profile name for ${r.recording}-${r.container} after ${MAX_NAME_TRIES} tries`);
  }

  async #createOrReplace(body: SeccompProfile, replace: boolean): Promise<unknown> {
    const { group, version, plural } = SECCOMP_PROFILES;
    const namespace = body.metadata.namespace ?? 'default';
    if (replace) {
      try {
        type Stored = SeccompProfile & { metadata: { resourceVersion?: string } };
        const current = await this.#kube.get<Stored>({
          group,
          version,
          plural,
          namespace,
          name: body.metadata.name,
        });
        return await this.#kube.replace<Stored>({
          group,
          version,
          plural,
          namespace,
          name: body.metadata.name,
          body: {
            ...body,
            metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion },
          },
        });
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    }
    return this.#kube.create<SeccompProfile>({ group, version, plural, namespace, body });
  }

  async #getRecording(namespace: string, name: string): Promise<ProfileRecording | undefined> {
    const { group, version, plural } = PROFILE_RECORDINGS;
    try {
      return await this.#kube.get<ProfileRecording>({ group, version, plural, namespace, name });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  // Before the partial profile exists, so the manager cannot finish a deletion that would orphan it.
  async #holdRecording(recording: ProfileRecording): Promise<void> {
    const meta = recording.metadata as {
      finalizers?: string[];
      resourceVersion?: string;
      deletionTimestamp?: unknown;
    };
    const finalizers = withFinalizer(meta.finalizers, UNMERGED_FINALIZER, true);
    if (finalizers === undefined || meta.deletionTimestamp != null) return;
    const { group, version, plural } = PROFILE_RECORDINGS;
    await this.#kube.patch({
      group,
      version,
      plural,
      namespace: recording.metadata.namespace ?? 'default',
      name: recording.metadata.name,
      body: { metadata: { finalizers, resourceVersion: meta.resourceVersion } },
      patchType: 'merge',
    });
  }

  async #patchPodFinalizers(pod: Pod, finalizers: string[]): Promise<void> {
    try {
      await this.#kube.patch({
        ...PODS,
        name: pod.metadata.name ?? '',
        namespace: pod.metadata.namespace ?? 'default',
        body: { metadata: { finalizers, resourceVersion: pod.metadata.resourceVersion } },
        patchType: 'merge',
      });
    } catch (err) {
      // gone already: nothing to hold or release
      if (statusOf(err) === 404) return;
      throw err;
    }
  }
}

function podRef(pod: Pod) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    name: pod.metadata.name ?? '',
    namespace: pod.metadata.namespace ?? 'default',
    ...(pod.metadata.uid !== undefined ? { uid: pod.metadata.uid } : {}),
  };
}
