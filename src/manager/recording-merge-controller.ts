import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { PARTIAL_LABEL } from '../daemon/profile-sync.js';
import { RECORDING_ID_LABEL } from '../daemon/recording-plan.js';
import { statusOf } from '../k8s/client.js';
import { type Informer, type KubeClient, makeRestInformer } from '../k8s/rest/index.js';
import { PROFILE_RECORDINGS, SECCOMP_PROFILES } from '../k8s/resources.js';
import type { ProfileRecording, SeccompProfile } from '../profiles/types.js';
import { planMerge, UNMERGED_FINALIZER } from './recording-merge.js';
import { WorkQueue } from './work-queue.js';

type Recording = ProfileRecording & KubernetesObject;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * mergeStrategy containers: when a recording that holds partial profiles is deleted, its partials are merged
 * per container into `<recording>-<container>`, then deleted, then the finalizer is released. Each step is
 * idempotent, so a manager that restarts half-way finishes the job.
 */
export class RecordingMergeController {
  readonly #recordings: Informer<Recording>;
  readonly #queue: WorkQueue;
  readonly #custom: CustomObjectsApi;
  readonly #log: Logger;

  /** `namespace`: single-namespace mode, only recordings there are watched. */
  constructor(kc: KubeConfig, kube: KubeClient, log: Logger, namespace?: string) {
    this.#log = log.child({ component: 'recording-merge' });
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#recordings = makeRestInformer<Recording>(
      kube,
      { ...PROFILE_RECORDINGS, namespace },
      { log: this.#log, what: 'profilerecordings' },
    );
    this.#queue = new WorkQueue((key) => this.#reconcile(key), this.#log);
    this.#recordings.onChange((r) => {
      if (needsMerge(r)) this.#queue.add(`${r.metadata.namespace}/${r.metadata.name}`);
    });
  }

  async start(): Promise<void> {
    await this.#recordings.start();
    this.#queue.start();
  }

  async stop(): Promise<void> {
    this.#queue.stop();
    await this.#recordings.stop();
  }

  idle(): Promise<void> {
    return this.#queue.idle();
  }

  async #reconcile(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const recording = this.#recordings.cache.get(name, namespace);
    if (recording === undefined || !needsMerge(recording)) return;
    const { group, version, plural } = SECCOMP_PROFILES;
    const partials = (
      (await this.#custom.listNamespacedCustomObject({
        group,
        version,
        plural,
        namespace,
        labelSelector: `${RECORDING_ID_LABEL}=${name},${PARTIAL_LABEL}=true`,
      })) as KubernetesListObject<SeccompProfile>
    ).items;
    const plan = planMerge(name, namespace, partials);
    for (const profile of plan.merged) {
      await this.#createOrReplace(profile);
      this.#log.info(
        { namespace, profile: profile.metadata.name, partials: plan.partials.length },
        'merged partial profiles',
      );
    }
    for (const partial of plan.partials) {
      try {
        await this.#custom.deleteNamespacedCustomObject({ group, version, plural, namespace, name: partial });
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    }
    const finalizers = (recording.metadata?.finalizers ?? []).filter((f) => f !== UNMERGED_FINALIZER);
    const rp = PROFILE_RECORDINGS;
    await this.#custom.patchNamespacedCustomObject(
      {
        group: rp.group,
        version: rp.version,
        plural: rp.plural,
        namespace,
        name,
        body: { metadata: { finalizers, resourceVersion: recording.metadata?.resourceVersion } },
      },
      MERGE,
    );
  }

  async #createOrReplace(body: SeccompProfile): Promise<void> {
    const { group, version, plural } = SECCOMP_PROFILES;
    const namespace = body.metadata.namespace ?? 'default';
    try {
      const current = (await this.#custom.getNamespacedCustomObject({
        group,
        version,
        plural,
        namespace,
        name: body.metadata.name,
      })) as { metadata: { resourceVersion?: string } };
      await this.#custom.replaceNamespacedCustomObject({
        group,
        version,
        plural,
        namespace,
        name: body.metadata.name,
        body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } },
      });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      await this.#custom.createNamespacedCustomObject({ group, version, plural, namespace, body });
    }
  }
}

function needsMerge(r: Recording): boolean {
  return r.metadata?.deletionTimestamp != null && (r.metadata.finalizers ?? []).includes(UNMERGED_FINALIZER);
}
