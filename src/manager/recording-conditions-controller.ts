import {
  AdmissionregistrationV1Api,
  type KubeConfig,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError, statusOf } from '../k8s/client.js';
import type { Informer } from '../k8s/rest/index.js';
import type { ManagerMetrics } from '../metrics/index.js';
import type { ProfileRecording } from '../profiles/types.js';
import { RECORDING_WEBHOOK_NAME } from '../webhook/configuration.js';
import { type HookConditionsView, planConditions, recordingConditions } from './recording-conditions.js';
import { WorkQueue } from './work-queue.js';

type Recording = ProfileRecording & KubernetesObject;

export interface RecordingConditionsOptions {
  readonly kc: KubeConfig;
  readonly log: Logger;
  readonly metrics: ManagerMetrics;
  /** The MutatingWebhookConfiguration's name. */
  readonly webhookConfiguration: string;
  /** The namespace controller's informer: the manager watches recordings once. */
  readonly recordings: Informer<Recording>;
  /** Repairs drift nobody announces (the configuration re-applied from the manifests). Default 60 s. */
  readonly resyncMs?: number;
}

const KEY = 'recording-conditions';
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

/**
 * Keeps the recording webhook's matchConditions equal to what the current ProfileRecordings select, so the
 * apiserver calls it only for pods a recording will patch. Start it after the recordings informer has synced:
 * conditions rendered from a half-listed cache would skip pods that should be recorded.
 */
export class RecordingConditionsController {
  readonly #options: RecordingConditionsOptions;
  readonly #log: Logger;
  readonly #admission: AdmissionregistrationV1Api;
  readonly #queue: WorkQueue;
  #resync: NodeJS.Timeout | undefined;
  #warnedMissing = false;
  #lastFallback: string | undefined;

  constructor(options: RecordingConditionsOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: 'recording-conditions' });
    this.#admission = options.kc.makeApiClient(AdmissionregistrationV1Api);
    this.#queue = new WorkQueue(
      () => this.#reconcile(),
      this.#log,
      (ok, _key, err) => {
        options.metrics.reconciles.inc({ controller: 'recording-conditions', result: ok ? 'ok' : 'error' });
        if (!ok) options.metrics.apiErrors.inc({ code: String(describeError(err).code ?? 'network') });
      },
    );
    options.recordings.onChange(() => this.#queue.add(KEY));
  }

  start(): void {
    this.#queue.start();
    this.#queue.add(KEY);
    this.#resync = setInterval(() => this.#queue.add(KEY), this.#options.resyncMs ?? 60_000);
    this.#resync.unref();
  }

  stop(): void {
    clearInterval(this.#resync);
    this.#queue.stop();
  }

  idle(): Promise<void> {
    return this.#queue.idle();
  }

  async #reconcile(): Promise<void> {
    const name = this.#options.webhookConfiguration;
    const want = recordingConditions(
      this.#options.recordings.cache.list().map((r) => ({
        namespace: r.metadata.namespace ?? '',
        name: r.metadata.name,
        podSelector: r.spec?.podSelector,
        deleting: Boolean((r.metadata as { deletionTimestamp?: unknown }).deletionTimestamp),
      })),
    );
    if ('always' in want && want.always !== this.#lastFallback) this.#log.warn({ name }, want.always);
    this.#lastFallback = 'always' in want ? want.always : undefined;
    // The certificate code and the spod controller patch the same object, each its own fields, each guarded by
    // the resourceVersion it read: a lost race is retried on a fresh read.
    for (let attempt = 1; ; attempt++) {
      let config: Awaited<ReturnType<AdmissionregistrationV1Api['readMutatingWebhookConfiguration']>>;
      try {
        config = await this.#admission.readMutatingWebhookConfiguration({ name });
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
        if (!this.#warnedMissing)
          this.#log.warn({ name }, 'webhook configuration not found; recording conditions not applied');
        this.#warnedMissing = true;
        return;
      }
      this.#warnedMissing = false;
      const ops = planConditions(
        (config.webhooks ?? []) as HookConditionsView[],
        RECORDING_WEBHOOK_NAME,
        want,
      );
      if (ops.length === 0) return;
      const guard = {
        op: 'test',
        path: '/metadata/resourceVersion',
        value: config.metadata?.resourceVersion,
      };
      try {
        await this.#admission.patchMutatingWebhookConfiguration({ name, body: [guard, ...ops] }, JSON_PATCH);
      } catch (err) {
        const code = statusOf(err);
        if (attempt < 3 && (code === 409 || code === 422)) continue;
        throw err;
      }
      const condition = 'conditions' in want ? want.conditions[0]?.expression : undefined;
      this.#log.info(
        { name, webhook: RECORDING_WEBHOOK_NAME, chars: condition?.length ?? 0 },
        condition === undefined ? 'recording matchConditions removed' : 'recording matchConditions updated',
      );
      return;
    }
  }
}
