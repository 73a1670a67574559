import { hostname } from 'node:os';
import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
  type V1DaemonSet,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import type { Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { type EmitEvent, eventEmitter } from '../daemon/recording-events.js';
import { isAppError } from '../errors.js';
import { describeError, statusOf } from '../k8s/client.js';
import { DAEMON_SETS, type Informer, type KubeClient, makeRestInformer } from '../k8s/rest/index.js';
import { SPODS } from '../k8s/resources.js';
import type { ManagerMetrics } from '../metrics/index.js';
import { SPOD_API_VERSION, type SpodSpecSchema, type SpodStatusSchema } from '../profiles/schema.js';
import { webhookConfiguration } from '../webhook/configuration.js';
import { METRICS_SECRET } from './certificates.js';
import { SYSTEM_NAMESPACES } from './opt-in.js';
import { DEFAULT_SPOD_IMAGE, loadBaseDaemonSet } from './spod-base.js';
import {
  SERVICE_MONITOR_GROUP,
  SERVICE_MONITOR_NAME,
  SERVICE_MONITOR_PLURAL,
  SERVICE_MONITOR_VERSION,
  METRICS_TOKEN_SECRET,
  metricsTokenSecret,
  serviceMonitor,
} from './spod-monitor.js';
import {
  CONFIG_HASH_ANNOTATION,
  covers,
  describeConfig,
  renderDaemonSet,
  SPOD_NAME,
  type SpodConfig,
  spodConfig,
} from './spod-render.js';
import { errorState, rolloutState, type SpodState, type SpodStatusDecision } from './spod-state.js';
import { planWebhookOptions, type WebhookView } from './spod-webhooks.js';
import { WorkQueue } from './work-queue.js';

interface Spod extends KubernetesObject {
  metadata: V1ObjectMeta & { name: string };
  spec?: Static<typeof SpodSpecSchema>;
  status?: Static<typeof SpodStatusSchema>;
}

export interface SpodControllerOptions {
  readonly kc: KubeConfig;
  /** Events and the spod and DaemonSet informers go through the small client, as in the node roles. */
  readonly kube: KubeClient;
  readonly log: Logger;
  readonly metrics: ManagerMetrics;
  /** The operator namespace: where spod, DaemonSet spod and the ServiceMonitor live. */
  readonly namespace: string;
  readonly webhookConfiguration: string;
  /** Single-namespace mode changes the webhooks' default selectors. */
  readonly watchNamespace?: string | undefined;
  /** The image of a DaemonSet created from the manifests (default DEFAULT_SPOD_IMAGE). */
  readonly image?: string | undefined;
  /**
   * false: the node roles run elsewhere (the local cluster runs them as processes), so DaemonSet spod is only
   * reported on, never created or changed. Default true.
   */
  readonly manageDaemonSet?: boolean;
  /** How often everything is checked again without an event (a ServiceMonitor CRD appearing, drift). */
  readonly resyncMs?: number;
}

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const KEY = SPOD_NAME;
const BY_NAME = `metadata.name=${SPOD_NAME}`;
const PART_OF = { 'app.kubernetes.io/part-of': 'seccomp-profiles-operator' };
const NOT_MANAGED: SpodStatusDecision = {
  state: 'Pending',
  condition: {
    type: 'Ready',
    status: 'False',
    reason: 'NotManaged',
    message: `DaemonSet ${SPOD_NAME} is not managed here (SPOD_MANAGE_DAEMONSET=false) and does not exist`,
  },
};

/**
 * The operator configuration (the seeds' `spod`): keeps SecurityProfilesOperatorDaemon `spod` in the operator
 * namespace (created with defaults when missing), renders DaemonSet `spod` from it, applies its webhook
 * options to the MutatingWebhookConfiguration, deploys a ServiceMonitor when the Prometheus Operator is
 * installed, and reports the rollout in the spod's status, conditions and Events.
 */
export class SpodController {
  readonly #options: SpodControllerOptions;
  readonly #log: Logger;
  readonly #custom: CustomObjectsApi;
  readonly #apps: AppsV1Api;
  readonly #core: CoreV1Api;
  readonly #admission: AdmissionregistrationV1Api;
  readonly #spods: Informer<Spod>;
  readonly #daemonSets: Informer<V1DaemonSet>;
  readonly #queue: WorkQueue;
  readonly #event: EmitEvent;
  #resync: NodeJS.Timeout | undefined;
  #lastError: string | undefined;
  #warnedNoWebhookConfiguration = false;

  constructor(options: SpodControllerOptions) {
    this.#options = options;
    const { kc, namespace } = options;
    this.#log = options.log.child({ component: 'spod', namespace });
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#apps = kc.makeApiClient(AppsV1Api);
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#admission = kc.makeApiClient(AdmissionregistrationV1Api);
    this.#spods = makeRestInformer<Spod>(
      options.kube,
      { ...SPODS, namespace },
      { log: this.#log, what: SPODS.plural, fieldSelector: BY_NAME },
    );
    this.#daemonSets = makeRestInformer<V1DaemonSet>(
      options.kube,
      { ...DAEMON_SETS, namespace },
      { log: this.#log, what: 'daemonsets', fieldSelector: BY_NAME },
    );
    this.#queue = new WorkQueue(
      () => this.#reconcile(),
      this.#log,
      (ok, _key, err) => {
        options.metrics.reconciles.inc({ controller: 'spod', result: ok ? 'ok' : 'error' });
        if (!ok) options.metrics.apiErrors.inc({ code: String(describeError(err).code ?? 'network') });
      },
    );
    this.#event = eventEmitter(options.kube, 'spod-controller', hostname(), this.#log);
    this.#spods.onChange(() => this.#queue.add(KEY));
    this.#daemonSets.onChange(() => this.#queue.add(KEY));
  }

  async start(): Promise<void> {
    await Promise.all([this.#spods.start(), this.#daemonSets.start()]);
    this.#queue.start();
    this.#queue.add(KEY);
    this.#resync = setInterval(() => this.#queue.add(KEY), this.#options.resyncMs ?? 300_000);
    this.#resync.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#resync);
    this.#queue.stop();
    await Promise.all([this.#spods.stop(), this.#daemonSets.stop()]);
  }

  idle(): Promise<void> {
    return this.#queue.idle();
  }

  async #reconcile(): Promise<void> {
    const { namespace } = this.#options;
    const spod = this.#spods.cache.get(SPOD_NAME, namespace);
    if (spod === undefined) {
      await this.#createDefault();
      return;
    }
    if (spod.metadata.deletionTimestamp !== undefined && spod.metadata.deletionTimestamp !== null) return;
    let config: SpodConfig;
    try {
      config = spodConfig(spod.spec);
    } catch (err) {
      // The schema should have refused it; nothing to retry until the spod changes.
      await this.#reportError(spod, err);
      return;
    }
    try {
      const ds =
        this.#options.manageDaemonSet === false
          ? await this.#readDaemonSet()
          : await this.#applyDaemonSet(spod, config);
      await this.#applyWebhookOptions(spod);
      await this.#applyServiceMonitor();
      const decision =
        ds === undefined
          ? NOT_MANAGED
          : rolloutState(
              { generation: ds.metadata?.generation, ...ds.status },
              spod.status?.state as SpodState | undefined,
            );
      await this.#writeStatus(spod, decision);
      this.#lastError = undefined;
    } catch (err) {
      await this.#reportError(spod, err).catch((e: unknown) =>
        this.#log.warn(describeError(e), 'cannot report the reconcile error in the spod status'),
      );
      // A DaemonSet that cannot be rendered stays so until it or the spod changes, and both are watched.
      if (!(isAppError(err) && err.code === 'ERR_CONFIG')) throw err;
    }
  }

  async #createDefault(): Promise<void> {
    const { namespace } = this.#options;
    const { group, version, plural } = SPODS;
    try {
      await this.#custom.createNamespacedCustomObject({
        group,
        version,
        plural,
        namespace,
        body: {
          apiVersion: SPOD_API_VERSION,
          kind: 'SecurityProfilesOperatorDaemon',
          metadata: { name: SPOD_NAME, namespace, labels: { ...PART_OF } },
          spec: {},
        },
      });
      this.#log.info({ name: SPOD_NAME }, 'spod created with the default configuration');
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
  }

  async #readDaemonSet(): Promise<V1DaemonSet | undefined> {
    try {
      return await this.#apps.readNamespacedDaemonSet({
        name: SPOD_NAME,
        namespace: this.#options.namespace,
      });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async #applyDaemonSet(spod: Spod, config: SpodConfig): Promise<V1DaemonSet> {
    const { namespace } = this.#options;
    const live = await this.#readDaemonSet();
    const summary = describeConfig(config);
    if (live === undefined) {
      const base = loadBaseDaemonSet(namespace, this.#options.image ?? DEFAULT_SPOD_IMAGE);
      const created = await this.#apps.createNamespacedDaemonSet({
        namespace,
        body: renderDaemonSet(config, base),
      });
      this.#log.info({ config }, 'DaemonSet spod created');
      this.#emit(spod, 'Normal', 'DaemonSetCreated', `DaemonSet ${SPOD_NAME} created: ${summary}`);
      return created;
    }
    const desired = renderDaemonSet(config, live);
    if (covers(live, desired)) return live;
    const before = live.metadata?.resourceVersion;
    const updated = await this.#apps.replaceNamespacedDaemonSet({
      name: SPOD_NAME,
      namespace,
      body: { ...desired, metadata: { ...desired.metadata, resourceVersion: before } },
    });
    // The apiserver skips a write that changes nothing; only a real change is news.
    if (updated.metadata?.resourceVersion !== before) {
      this.#log.info(
        { config, hash: updated.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION] },
        'DaemonSet spod updated',
      );
      this.#emit(spod, 'Normal', 'DaemonSetUpdated', `DaemonSet ${SPOD_NAME} updated: ${summary}`);
    }
    return updated;
  }

  async #applyWebhookOptions(spod: Spod): Promise<void> {
    const { namespace, watchNamespace } = this.#options;
    const name = this.#options.webhookConfiguration;
    const defaults: WebhookView[] = webhookConfiguration({ url: 'https://unused' }, namespace, undefined, {
      watchNamespace,
    }).webhooks;
    const excluded =
      watchNamespace === undefined ? [...SYSTEM_NAMESPACES, namespace] : [...SYSTEM_NAMESPACES];
    // The certificate code patches the caBundle of the same object, guarded the same way: a lost race is
    // retried here on a fresh read, and neither ever writes the other's fields.
    for (let attempt = 1; ; attempt++) {
      let config: Awaited<ReturnType<AdmissionregistrationV1Api['readMutatingWebhookConfiguration']>>;
      try {
        config = await this.#admission.readMutatingWebhookConfiguration({ name });
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
        if (!this.#warnedNoWebhookConfiguration)
          this.#log.warn({ name }, 'webhook configuration not found; webhook options not applied');
        this.#warnedNoWebhookConfiguration = true;
        return;
      }
      this.#warnedNoWebhookConfiguration = false;
      const plan = planWebhookOptions(
        (config.webhooks ?? []) as WebhookView[],
        defaults,
        spod.spec?.webhookOptions ?? [],
        excluded,
      );
      if (plan.ops.length === 0) return;
      const guard = {
        op: 'test',
        path: '/metadata/resourceVersion',
        value: config.metadata?.resourceVersion,
      };
      try {
        await this.#admission.patchMutatingWebhookConfiguration(
          { name, body: [guard, ...plan.ops] },
          JSON_PATCH,
        );
      } catch (err) {
        const code = statusOf(err);
        if (attempt < 3 && (code === 409 || code === 422)) continue;
        throw err;
      }
      this.#log.info({ name, changes: plan.changes }, 'webhook options applied');
      this.#emit(spod, 'Normal', 'WebhookConfigurationUpdated', `${name}: ${plan.changes.join('; ')}`);
      return;
    }
  }

  async #serviceMonitorsServed(): Promise<boolean> {
    try {
      const list = await this.#custom.getAPIResources({
        group: SERVICE_MONITOR_GROUP,
        version: SERVICE_MONITOR_VERSION,
      });
      return list.resources.some((r) => r.name === SERVICE_MONITOR_PLURAL);
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  /** Only with the Prometheus Operator installed (its ServiceMonitor CRD served); otherwise nothing at all. */
  async #applyServiceMonitor(): Promise<void> {
    if (!(await this.#serviceMonitorsServed())) return;
    const { namespace } = this.#options;
    const desired = serviceMonitor(namespace, METRICS_SECRET);
    const ref = {
      group: SERVICE_MONITOR_GROUP,
      version: SERVICE_MONITOR_VERSION,
      plural: SERVICE_MONITOR_PLURAL,
      namespace,
    };
    let live: { metadata?: { resourceVersion?: string } } | undefined;
    try {
      live = (await this.#custom.getNamespacedCustomObject({ ...ref, name: SERVICE_MONITOR_NAME })) as {
        metadata?: { resourceVersion?: string };
      };
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    if (live !== undefined && covers(live, desired)) return;
    this.#log.info({ name: SERVICE_MONITOR_NAME }, 'Deploying operator service monitor');
    await this.#ensureMetricsToken();
    if (live === undefined) {
      await this.#custom.createNamespacedCustomObject({ ...ref, body: desired });
    } else {
      await this.#custom.replaceNamespacedCustomObject({
        ...ref,
        name: SERVICE_MONITOR_NAME,
        body: {
          ...desired,
          metadata: { ...desired.metadata, resourceVersion: live.metadata?.resourceVersion },
        },
      });
    }
  }

  async #ensureMetricsToken(): Promise<void> {
    const { namespace } = this.#options;
    try {
      await this.#core.readNamespacedSecret({ name: METRICS_TOKEN_SECRET, namespace });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      await this.#core
        .createNamespacedSecret({ namespace, body: metricsTokenSecret(namespace) })
        .catch((e: unknown) => {
          if (statusOf(e) !== 409) throw e;
        });
    }
  }

  async #writeStatus(spod: Spod, decision: SpodStatusDecision): Promise<void> {
    const previous = spod.status?.conditions?.find((c) => c.type === 'Ready');
    const generation = spod.metadata.generation;
    const unchanged =
      spod.status?.state === decision.state &&
      spod.status?.observedGeneration === generation &&
      previous?.status === decision.condition.status &&
      previous.reason === decision.condition.reason &&
      previous.message === decision.condition.message;
    if (unchanged) return;
    const lastTransitionTime =
      previous?.status === decision.condition.status && previous.lastTransitionTime
        ? previous.lastTransitionTime
        : new Date().toISOString();
    const { group, version, plural } = SPODS;
    await this.#custom.patchNamespacedCustomObjectStatus(
      {
        group,
        version,
        plural,
        namespace: this.#options.namespace,
        name: SPOD_NAME,
        body: {
          status: {
            state: decision.state,
            ...(generation !== undefined ? { observedGeneration: generation } : {}),
            conditions: [{ ...decision.condition, lastTransitionTime }],
          },
        },
      },
      MERGE,
    );
    if (spod.status?.state !== decision.state) {
      this.#log.info(
        { state: decision.state, previous: spod.status?.state, reason: decision.condition.message },
        'spod state changed',
      );
      if (decision.state === 'Running')
        this.#emit(
          spod,
          'Normal',
          'Running',
          `DaemonSet ${SPOD_NAME} rolled out: ${decision.condition.message}`,
        );
    }
  }

  async #reportError(spod: Spod, err: unknown): Promise<void> {
    const message = isAppError(err) ? err.message : describeError(err).reason;
    this.#log.error({ err: describeError(err) }, 'spod reconcile failed');
    if (this.#lastError !== message) this.#emit(spod, 'Warning', 'ReconcileFailed', message);
    this.#lastError = message;
    await this.#writeStatus(spod, errorState(message));
  }

  #emit(spod: Spod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#event(
      {
        apiVersion: SPOD_API_VERSION,
        kind: 'SecurityProfilesOperatorDaemon',
        name: spod.metadata.name,
        namespace: this.#options.namespace,
        ...(spod.metadata.uid !== undefined ? { uid: spod.metadata.uid } : {}),
      },
      type,
      reason,
      message,
    );
  }
}
