import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { NODE_STATUS_PLURAL } from '../daemon/node-status-writer.js';
import { profileLocation } from '../daemon/profile-path.js';
import { DISABLED_LABEL, PARTIAL_LABEL } from '../daemon/profile-sync.js';
import { type Informer, type KubeClient, makeRestInformer, NODES } from '../k8s/rest/index.js';
import { type ResourceRef, SECCOMP_PROFILES } from '../k8s/resources.js';
import { API_GROUP } from '../profiles/schema.js';
import type { ProfileState, SeccompProfile, SecurityProfileNodeStatus } from '../profiles/types.js';
import { POD_SETTLE_MS } from './controller.js';
import { DISABLED_CONDITION, rollUpNodeStates } from './profile-status.js';
import { profilesUsedByPod } from './profile-usage.js';
import { WorkQueue } from './work-queue.js';

/** Held on a SeccompProfile while pods use it, so deleting it leaves it Terminating and its file in place. */
export const IN_USE_FINALIZER = 'spo.x-k8s.io/in-use-by-active-pods';

const NODE_STATUSES: ResourceRef = { group: API_GROUP, version: 'v1alpha1', plural: NODE_STATUS_PLURAL };

type Profile = SeccompProfile & KubernetesObject & { metadata: { name: string } };
type NodeStatus = SecurityProfileNodeStatus & KubernetesObject;

export interface ProfileControllerOptions {
  readonly kc: KubeConfig;
  /** Lists and watches (the informers); `kc` for the calls. */
  readonly kube: KubeClient;
  readonly log: Logger;
  /** Shared with other controllers of the manager, so pods are watched once. */
  readonly pods: Informer<V1Pod>;
  readonly kubeletDir?: string;
  /**
   * How long a pass caused by a pod event, or by a change to a profile's status only, waits for the next ones
   * (default 1 s); except when a running pod uses a profile that does not hold the in-use finalizer yet: that
   * pass runs at once, so the finalizer is never late.
   */
  readonly podSettleMs?: number;
  /**
   * Single-namespace mode: profiles and node statuses in this namespace only, and no Node watch (nodes are
   * cluster-scoped); a profile then rolls up over the nodes that reported it.
   */
  readonly watchNamespace?: string | undefined;
}

/** What a pass reads of a profile besides its status: a change to it is worth a pass at once. */
function inputsOf(p: Profile): string {
  const m = p.metadata as { generation?: number; finalizers?: string[]; deletionTimestamp?: unknown };
  return JSON.stringify([m.generation, m.finalizers, m.deletionTimestamp, p.metadata.labels]);
}

function isRunningPod(pod: V1Pod): boolean {
  return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * SeccompProfile status from the cluster's point of view: the nodes' states rolled up, the Ready condition,
 * where the profile lives, which pods use it, and the in-use finalizer. Keyed by namespace.
 */
export class ProfileController {
  private readonly custom: CustomObjectsApi;
  private readonly profiles: Informer<Profile>;
  private readonly nodeStatuses: Informer<NodeStatus>;
  private readonly nodes: Informer<V1Node> | undefined;
  private readonly queue: WorkQueue;

  constructor(private readonly options: ProfileControllerOptions) {
    const { kc, kube, log, watchNamespace: only } = options;
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.profiles = makeRestInformer<Profile>(
      kube,
      { ...SECCOMP_PROFILES, namespace: only },
      { log, what: 'seccompprofiles' },
    );
    this.nodeStatuses = makeRestInformer<NodeStatus>(
      kube,
      { ...NODE_STATUSES, namespace: only },
      { log, what: 'securityprofilenodestatuses' },
    );
    this.nodes =
      only === undefined ? makeRestInformer<V1Node>(kube, NODES, { log, what: 'nodes' }) : undefined;
    this.queue = new WorkQueue((ns) => this.reconcile(ns), log.child({ controller: 'profile' }));
    const settle = options.podSettleMs ?? POD_SETTLE_MS;
    // A change to what a pass reads from the profile itself runs one at once; one to its status only (our own
    // writes, mostly) waits like pod events, or a long rollout would get a pass and a write per pod again.
    this.profiles.onChange((p, verb, previous) => {
      if (verb === 'update' && previous !== undefined && inputsOf(previous) === inputsOf(p)) {
        this.queue.addSettled(p.metadata.namespace, settle);
      } else this.queue.add(p.metadata.namespace);
    });
    this.nodeStatuses.onChange((s) => this.queue.add(s.metadata?.namespace));
    this.nodes?.onChange(() => {
      for (const p of this.profiles.cache.list()) this.queue.add(p.metadata.namespace);
    });
    // Each pass reads every pod and may patch each profile's activeWorkloads: a rollout's burst of pod events
    // is folded into one pass, but protecting a profile from deletion waits for nothing.
    options.pods.onChange((pod) => {
      for (const key of profilesUsedByPod(pod)) {
        const [namespace = '', name = ''] = key.split('/');
        if (isRunningPod(pod) && !this.holdsInUse(namespace, name)) this.queue.add(namespace);
        else this.queue.addSettled(namespace, settle);
      }
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.profiles.start(), this.nodeStatuses.start(), this.nodes?.start()]);
    this.queue.start();
    for (const p of this.profiles.cache.list()) this.queue.add(p.metadata.namespace);
  }

  async stop(): Promise<void> {
    this.queue.stop();
    await Promise.all([this.profiles.stop(), this.nodeStatuses.stop(), this.nodes?.stop()]);
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  /**
   * Whether the cached profile holds the in-use finalizer. One not (yet) cached has nothing to hold, and one being
   * deleted cannot be given it: a pass for either need not run at once.
   */
  private holdsInUse(namespace: string, name: string): boolean {
    const profile = this.profiles.cache.get(name, namespace);
    if (profile === undefined || profile.metadata.deletionTimestamp !== undefined) return true;
    return ((profile.metadata as { finalizers?: string[] }).finalizers ?? []).includes(IN_USE_FINALIZER);
  }

  private usersByProfile(): Map<string, string[]> {
    const users = new Map<string, string[]>();
    for (const pod of this.options.pods.cache.list()) {
      if (!isRunningPod(pod)) continue;
      for (const key of profilesUsedByPod(pod)) {
        const list = users.get(key) ?? [];
        list.push(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
        users.set(key, list);
      }
    }
    return users;
  }

  private async reconcile(namespace: string): Promise<void> {
    const users = this.usersByProfile();
    const readyNodes = this.nodes?.cache
      .list()
      .filter(isReady)
      .map((n) => n.metadata?.name ?? '');
    const statuses = this.nodeStatuses.cache.list(namespace);
    for (const profile of this.profiles.cache.list(namespace)) {
      const name = profile.metadata.name;
      const active = (users.get(`${namespace}/${name}`) ?? []).sort();
      await this.syncFinalizer(profile, active.length > 0);
      const terminating =
        (profile.metadata as { deletionTimestamp?: unknown }).deletionTimestamp !== undefined;
      const partial = profile.metadata.labels?.[PARTIAL_LABEL] === 'true';
      const disabled = !partial && profile.metadata.labels?.[DISABLED_LABEL] === 'true';
      const rolled = rollUpNodeStates(
        statuses
          .filter((s) => s.profileName === name)
          .map((s) => ({ nodeName: s.nodeName, status: s.status, message: s.message })),
        readyNodes,
      );
      const state: ProfileState = terminating
        ? 'Terminating'
        : partial
          ? 'Partial'
          : disabled
            ? 'Disabled'
            : rolled.status;
      const condition = terminating
        ? { type: 'Ready', status: 'False', reason: 'Deleting', message: `in use by ${active.length} pod(s)` }
        : disabled
          ? DISABLED_CONDITION
          : rolled.condition;
      const location = profileLocation(namespace, name);
      const status = {
        status: state,
        ...(partial || disabled ? {} : { localhostProfile: location.localhostProfile }),
        ...(partial || disabled
          ? {}
          : {
              path: `${this.options.kubeletDir ?? '/var/lib/kubelet'}/seccomp/${location.localhostProfile}`,
            }),
        activeWorkloads: active,
        conditions: [{ ...condition, lastTransitionTime: this.transitionTime(profile, condition.status) }],
      };
      if (JSON.stringify(comparable(profile.status)) === JSON.stringify(comparable(status))) continue;
      await this.custom.patchNamespacedCustomObjectStatus(
        { ...SECCOMP_PROFILES, namespace, name, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      this.options.log.info(
        { namespace, name, status: state, activeWorkloads: active.length },
        'profile status updated',
      );
    }
  }

  private transitionTime(profile: Profile, status: string): string {
    const previous = profile.status?.conditions?.find((c) => c.type === 'Ready');
    return previous?.status === status && previous.lastTransitionTime
      ? previous.lastTransitionTime
      : new Date().toISOString();
  }

  private async syncFinalizer(profile: Profile, inUse: boolean): Promise<void> {
    const finalizers = (profile.metadata as { finalizers?: string[] }).finalizers ?? [];
    const has = finalizers.includes(IN_USE_FINALIZER);
    if (has === inUse) return;
    // The apiserver refuses new finalizers on an object being deleted.
    if (inUse && (profile.metadata as { deletionTimestamp?: unknown }).deletionTimestamp !== undefined)
      return;
    const next = inUse ? [...finalizers, IN_USE_FINALIZER] : finalizers.filter((f) => f !== IN_USE_FINALIZER);
    await this.custom.patchNamespacedCustomObject(
      {
        ...SECCOMP_PROFILES,
        namespace: profile.metadata.namespace ?? 'default',
        name: profile.metadata.name,
        body: {
          metadata: {
            finalizers: next,
            resourceVersion: (profile.metadata as { resourceVersion?: string }).resourceVersion,
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

/** Status without timestamps, to tell whether a patch would change anything. */
function comparable(status: unknown): unknown {
  const s = (status ?? {}) as { conditions?: Array<Record<string, unknown>> };
  return { ...s, conditions: (s.conditions ?? []).map(({ lastTransitionTime: _t, ...rest }) => rest) };
}
