import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isAppError } from '../errors.js';
import { statusOf } from '../k8s/client.js';
import { type Informer, makeInformer } from '../k8s/informer.js';
import { PROFILE_RECORDINGS, SECCOMP_PROFILES } from '../k8s/resources.js';
import { WorkQueue } from '../manager/work-queue.js';
import { profileFromSyscalls } from '../profiles/recorded.js';
import { ARCHES, type Arch } from '../profiles/syscalls/index.js';
import type { ProfileRecording, SeccompProfile } from '../profiles/types.js';
import type { Collected, RecorderClient } from '../rpc/recorder-client.js';
import { PARTIAL_LABEL } from './profile-sync.js';
import type { EmitEvent } from './recording-events.js';
import type { RecordingMetrics } from './recording-metrics.js';
import {
  CONTAINER_ID_LABEL,
  isReplica,
  planPod,
  POD_UID_LABEL,
  profileName,
  RECORDING_FINALIZER,
  RECORDING_ID_LABEL,
  type RecordedContainer,
  type RecordedPod,
  recordingKey,
  UNMERGED_FINALIZER,
  withFinalizer,
} from './recording-plan.js';

export interface RecordingControllerDeps {
  readonly kc: KubeConfig;
  readonly nodeName: string;
  readonly recorder: Pick<RecorderClient, 'arm' | 'disarm' | 'track' | 'collect' | 'release'>;
  readonly events: EmitEvent;
  readonly metrics: RecordingMetrics;
  readonly log: Logger;
}

type Pod = V1Pod & KubernetesObject & RecordedPod;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const MAX_NAME_TRIES = 100;

/**
 * The daemon's recording controller: pods on this node that carry trace-bpf annotations are armed and their
 * containers tracked as soon as they have ids; when the pod is over, one SeccompProfile per container is made
 * from what the recorder collected. A finalizer on the pod keeps it (and so this work) alive across restarts.
 */
export class RecordingController {
  readonly #deps: RecordingControllerDeps;
  readonly #log: Logger;
  readonly #pods: Informer<Pod>;
  readonly #queue: WorkQueue;
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  /** Last seen state of pods deleted from the API while we still had work for them. */
  readonly #gone = new Map<string, Pod>();

  constructor(deps: RecordingControllerDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ component: 'recording' });
    this.#core = deps.kc.makeApiClient(CoreV1Api);
    this.#custom = deps.kc.makeApiClient(CustomObjectsApi);
    const fieldSelector = `spec.nodeName=${deps.nodeName}`;
    this.#pods = makeInformer<Pod>(
      deps.kc,
      '/api/v1/pods',
      () => this.#core.listPodForAllNamespaces({ fieldSelector }) as Promise<KubernetesListObject<Pod>>,
      { log: this.#log, what: 'pods', fieldSelector },
    );
    this.#queue = new WorkQueue((key) => this.#reconcile(key), this.#log);
    this.#pods.onChange((pod, verb) => {
      if (planPod(pod) === undefined) return;
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
      if (planPod(pod) !== undefined) this.#queue.add(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
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
    const plan = planPod(pod);
    if (plan === undefined) return;
    const uid = pod.metadata.uid ?? '';
    const log = this.#log.child({ namespace, pod: name });

    if (plan.action === 'record' && live !== undefined) {
      await this.#deps.recorder.arm(uid);
      if (pod.metadata.deletionTimestamp == null) {
        const finalizers = withFinalizer(pod.metadata.finalizers, RECORDING_FINALIZER, true);
        if (finalizers !== undefined) {
          await this.#patchPodFinalizers(pod, finalizers);
          this.#deps.events(podRef(pod), 'Normal', 'SeccompProfileRecording', 'Recording seccomp profile');
          log.info({ containers: plan.recorded.map((r) => r.container) }, 'recording pod');
        }
      }
      await this.#track(plan.track, plan.recorded, log);
      return;
    }

    // Over: late ids first (a container that lived for a moment was attributed by the recorder already).
    await this.#track(plan.track, plan.recorded, log);
    for (const r of plan.recorded) {
      const rkey = recordingKey(pod, r.container);
      let collected: Collected;
      try {
        collected = await this.#deps.recorder.collect(rkey);
      } catch (err) {
        if (isAppError(err) && err.code === 'ERR_NOT_RECORDED') {
          log.warn({ container: r.container }, 'nothing was recorded for container; no profile');
          continue;
        }
        throw err;
      }
      await this.#saveProfile(pod, r, collected, log);
      await this.#deps.recorder.release(rkey);
    }
    await this.#deps.recorder.disarm(uid);
    if (live !== undefined) {
      const finalizers = withFinalizer(live.metadata.finalizers, RECORDING_FINALIZER, false);
      if (finalizers !== undefined) await this.#patchPodFinalizers(live, finalizers);
    }
    this.#gone.delete(key);
  }

  async #track(
    track: readonly { containerId: string; key: string }[],
    recorded: readonly RecordedContainer[],
    log: Logger,
  ): Promise<void> {
    for (const t of track) {
      try {
        const r = await this.#deps.recorder.track(t.containerId, t.key);
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

  async #saveProfile(pod: Pod, r: RecordedContainer, collected: Collected, log: Logger): Promise<void> {
    const namespace = pod.metadata.namespace ?? 'default';
    const uid = pod.metadata.uid ?? '';
    const { group, version, plural } = SECCOMP_PROFILES;
    const recording = await this.#getRecording(namespace, r.recording);
    const partial = recording?.spec.mergeStrategy === 'containers';
    const numbered = partial || isReplica(pod);
    const existing = (
      (await this.#custom.listNamespacedCustomObject({
        group,
        version,
        plural,
        namespace,
        labelSelector: `${RECORDING_ID_LABEL}=${r.recording},${CONTAINER_ID_LABEL}=${r.container}`,
      })) as KubernetesListObject<SeccompProfile>
    ).items;
    if (existing.some((p) => p.metadata.labels?.[POD_UID_LABEL] === uid)) {
      log.info({ container: r.container }, 'profile for this pod already saved');
      return;
    }
    if (partial && recording !== undefined) await this.#holdRecording(recording);
    const arch = collected.arch as Arch;
    if (!ARCHES.includes(arch)) throw new Error(`recorder reported unknown architecture ${collected.arch}`);
    for (const w of collected.warnings) log.warn({ container: r.container }, w);
    const taken = new Set(existing.map((p) => p.metadata.name));
    for (let i = 0; i < MAX_NAME_TRIES; i++) {
      const name = profileName(r.recording, r.container, numbered, taken);
      const body = profileFromSyscalls({
        name,
        namespace,
        arch,
        syscalls: collected.syscalls,
        labels: {
          [RECORDING_ID_LABEL]: r.recording,
          [CONTAINER_ID_LABEL]: r.container,
          [POD_UID_LABEL]: uid,
          ...(partial ? { [PARTIAL_LABEL]: 'true' } : {}),
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
          'seccomp profile created',
        );
        log.info({ profile: name, syscalls: collected.syscalls.length, partial }, 'seccomp profile created');
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
        const current = (await this.#custom.getNamespacedCustomObject({
          group,
          version,
          plural,
          namespace,
          name: body.metadata.name,
        })) as SeccompProfile & { metadata: { resourceVersion?: string } };
        return await this.#custom.replaceNamespacedCustomObject({
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
    return this.#custom.createNamespacedCustomObject({ group, version, plural, namespace, body });
  }

  async #getRecording(namespace: string, name: string): Promise<ProfileRecording | undefined> {
    const { group, version, plural } = PROFILE_RECORDINGS;
    try {
      return (await this.#custom.getNamespacedCustomObject({
        group,
        version,
        plural,
        namespace,
        name,
      })) as ProfileRecording;
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
    await this.#custom.patchNamespacedCustomObject(
      {
        group,
        version,
        plural,
        namespace: recording.metadata.namespace ?? 'default',
        name: recording.metadata.name,
        body: { metadata: { finalizers, resourceVersion: meta.resourceVersion } },
      },
      MERGE,
    );
  }

  async #patchPodFinalizers(pod: Pod, finalizers: string[]): Promise<void> {
    try {
      await this.#core.patchNamespacedPod(
        {
          name: pod.metadata.name ?? '',
          namespace: pod.metadata.namespace ?? 'default',
          body: { metadata: { finalizers, resourceVersion: pod.metadata.resourceVersion } },
        },
        MERGE,
      );
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
