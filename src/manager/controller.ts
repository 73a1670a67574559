import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Namespace,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { statusOf } from '../k8s/client.js';
import { WorkQueue } from './work-queue.js';
import {
  type Informer,
  type KubeClient,
  type KubeObject,
  makeRestInformer,
  NAMESPACES,
  PODS,
} from '../k8s/rest/index.js';
import { PROFILE_BINDINGS, PROFILE_RECORDINGS } from '../k8s/resources.js';
import type { ManagerMetrics } from '../metrics/index.js';
import type { ProfileBinding, ProfileRecording } from '../profiles/types.js';
import { bindingSync, bindingUsage, type PodWithStatus } from './binding-usage.js';
import { managerPod } from './cached-pod.js';
import { optInPatch } from './opt-in.js';

export interface ControllerOptions {
  readonly kc: KubeConfig;
  /** Lists and watches (the informers); `kc` for the calls. */
  readonly kube: KubeClient;
  readonly log: Logger;
  readonly metrics: ManagerMetrics;
  /** Never labelled for the webhooks: system namespaces and the operator's own. */
  readonly excludedNamespaces: ReadonlySet<string>;
  /**
   * Single-namespace mode: pods, bindings and recordings are watched in this namespace only, and no namespace is
   * labelled (the webhook configuration then selects this namespace by name, so there is nothing to opt in).
   */
  readonly watchNamespace?: string | undefined;
  /**
   * How long a pass caused by a pod event waits for the next ones. Default 1 s: a rollout or a scale-up sends
   * several events per pod, and each pass may patch a binding's status with its whole activeWorkloads list.
   */
  readonly podSettleMs?: number;
}

type Binding = ProfileBinding & KubeObject;
type Recording = ProfileRecording & KubeObject;

/** How long a pass caused by a pod event waits for the next ones, by default (see podSettleMs). */
export const POD_SETTLE_MS = 1_000;

/**
 * Keeps per-namespace state in line with what the namespace holds: the webhooks' opt-in labels, and each
 * ProfileBinding's activeWorkloads and finalizer. Work is keyed by namespace, and a pod event's pass waits
 * `podSettleMs` for the events after it, so a burst of pod events costs one pass (one status patch per binding,
 * not one per event); a failed pass is retried with back-off.
 */
export class NamespaceController {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  /** Undefined in single-namespace mode: namespaces are cluster-scoped and not ours to watch or label. */
  private readonly namespaces: Informer<V1Namespace> | undefined;
  /** Shared with the profile controller, so the manager watches pods once. */
  readonly pods: Informer<V1Pod>;
  private readonly bindings: Informer<Binding>;
  /** Shared with the recording-conditions controller. */
  readonly recordings: Informer<Recording>;
  private readonly queue: WorkQueue;
  private running = false;

  constructor(private readonly options: ControllerOptions) {
    const { kc, kube, log, watchNamespace: only } = options;
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.namespaces =
      only === undefined
        ? makeRestInformer<V1Namespace>(kube, NAMESPACES, { log, what: 'namespaces' })
        : undefined;
    this.pods = makeRestInformer<V1Pod>(
      kube,
      { ...PODS, namespace: only },
      { log, what: 'pods', transform: managerPod },
    );
    this.bindings = makeRestInformer<Binding>(
      kube,
      { ...PROFILE_BINDINGS, namespace: only },
      { log, what: 'profilebindings' },
    );
    this.recordings = makeRestInformer<Recording>(
      kube,
      { ...PROFILE_RECORDINGS, namespace: only },
      { log, what: 'profilerecordings' },
    );
    this.queue = new WorkQueue(
      (ns) => this.reconcile(ns),
      log.child({ controller: 'namespace' }),
      (ok, _ns, err) => {
        options.metrics.reconciles.inc({ controller: 'namespace', result: ok ? 'ok' : 'error' });
        if (!ok) options.metrics.apiErrors.inc({ code: String(statusOf(err) ?? 'network') });
      },
      // A conflict only means our cached copy was stale; the watch brings the new one and we try again.
      { failureLevel: (err) => (statusOf(err) === 409 ? 'debug' : 'warn') },
    );
    const settle = options.podSettleMs ?? POD_SETTLE_MS;
    this.namespaces?.onChange((ns, verb) => verb !== 'delete' && this.queue.add(ns.metadata?.name));
    this.pods.onChange((o) => this.queue.addSettled(o.metadata?.namespace, settle));
    for (const inf of [this.bindings, this.recordings] as Informer<KubeObject>[]) {
      inf.onChange((o) => this.queue.add(o.metadata?.namespace));
    }
  }

  async start(): Promise<void> {
    await Promise.all([
      this.namespaces?.start(),
      this.pods.start(),
      this.bindings.start(),
      this.recordings.start(),
    ]);
    this.running = true;
    this.queue.start();
    if (this.namespaces === undefined) this.queue.add(this.options.watchNamespace);
    for (const ns of this.namespaces?.cache.list() ?? []) this.queue.add(ns.metadata?.name);
    this.options.log.info('controller caches synced');
  }

  async stop(): Promise<void> {
    this.running = false;
    this.queue.stop();
    await Promise.all([
      this.namespaces?.stop(),
      this.pods.stop(),
      this.bindings.stop(),
      this.recordings.stop(),
    ]);
  }

  synced(): boolean {
    return this.running;
  }

  /** Resolves when no namespace is settling, queued or being reconciled (for tests and orderly shutdown). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private async reconcile(namespace: string): Promise<void> {
    const bindings = [...this.bindings.cache.list(namespace)];
    const recordings = this.recordings.cache.list(namespace);
    const ns = this.namespaces?.cache.get(namespace);
    if (ns && !ns.metadata?.deletionTimestamp) {
      const patch = optInPatch(
        { name: namespace, labels: ns.metadata?.labels, annotations: ns.metadata?.annotations },
        {
          binding: bindings.some((b) => !(b.metadata as { deletionTimestamp?: unknown }).deletionTimestamp),
          recording: recordings.some(
            (r) => !(r.metadata as { deletionTimestamp?: unknown }).deletionTimestamp,
          ),
        },
        this.options.excludedNamespaces,
      );
      if (patch) {
        await this.core.patchNamespace(
          { name: namespace, body: patch },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        this.options.log.info(
          { namespace, labels: patch.metadata.labels },
          'namespace opt-in labels updated',
        );
      }
    }
    if (bindings.length === 0) return;
    const usage = bindingUsage(
      namespace,
      bindings,
      this.pods.cache.list(namespace) as unknown as PodWithStatus[],
    );
    for (const binding of bindings) {
      await this.syncBinding(namespace, binding, usage.get(binding.metadata.name) ?? []);
    }
  }

  private async syncBinding(namespace: string, binding: Binding, users: string[]): Promise<void> {
    const sync = bindingSync(binding, users);
    const { group, version, plural } = PROFILE_BINDINGS;
    const name = binding.metadata.name;
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const terminating = Boolean((binding.metadata as { deletionTimestamp?: unknown }).deletionTimestamp);
    // Status first, finalizer last: once the finalizer goes, a terminating binding may vanish at once.
    if (sync.activeWorkloads) {
      await this.custom.patchNamespacedCustomObjectStatus(
        {
          group,
          version,
          plural,
          namespace,
          name,
          body: { status: { activeWorkloads: sync.activeWorkloads } },
        },
        merge,
      );
    }
    const adding =
      sync.finalizers &&
      sync.finalizers.length > ((binding.metadata as { finalizers?: string[] }).finalizers?.length ?? 0);
    // The apiserver refuses new finalizers on an object being deleted; in-use protection then comes too late.
    if (sync.finalizers && !(adding && terminating)) {
      await this.custom.patchNamespacedCustomObject(
        {
          group,
          version,
          plural,
          namespace,
          name,
          body: {
            metadata: { finalizers: sync.finalizers, resourceVersion: binding.metadata.resourceVersion },
          },
        },
        merge,
      );
    }
    if (sync.activeWorkloads || sync.finalizers) {
      this.options.log.info(
        { namespace, binding: name, activeWorkloads: users.length },
        'binding usage updated',
      );
    }
  }
}
