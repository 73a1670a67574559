import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Secret,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { statusOf } from '../k8s/client.js';
import type { ManagerMetrics } from '../metrics/index.js';
import { type CertPolicy, metricsHosts, planCertificates, type StoredCerts } from './cert-plan.js';
import { createCa, type IssuedCert, issueServing } from './x509.js';

export const CA_SECRET = 'webhook-ca';
export const SERVING_SECRET = 'webhook-server-cert';
/** The daemons' metrics serving pair: every DaemonSet pod mounts it (as the seed describes). */
export const METRICS_SECRET = 'metrics-server-cert';

export interface WebhookCertificatesOptions {
  readonly kc: KubeConfig;
  readonly log: Logger;
  readonly metrics: ManagerMetrics;
  readonly namespace: string;
  readonly webhookConfiguration: string;
  readonly policy: CertPolicy;
  /** Also write tls.crt/tls.key/ca.crt here, for a webhook running as a local process. */
  readonly certDir?: string | undefined;
  readonly now?: () => Date;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString() : undefined);

/**
 * The `selfsigned` certificate source: a CA and a serving certificate kept in Secrets, the CA bundle
 * patched into the webhook configuration before any certificate it must vouch for is served. The same CA
 * signs the daemons' metrics certificate (Secret metrics-server-cert, for Service `metrics`), whose ca.crt
 * is the same bundle, so scrapers keep trusting it through a CA rotation.
 */
export class WebhookCertificates {
  private readonly core: CoreV1Api;
  private readonly admission: AdmissionregistrationV1Api;

  constructor(private readonly options: WebhookCertificatesOptions) {
    this.core = options.kc.makeApiClient(CoreV1Api);
    this.admission = options.kc.makeApiClient(AdmissionregistrationV1Api);
  }

  private async readSecret(name: string): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ name, namespace: this.options.namespace });
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  }

  private async writeSecret(
    existing: V1Secret | undefined,
    name: string,
    type: string,
    data: Record<string, string>,
  ) {
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type,
      metadata: {
        name,
        namespace: this.options.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'seccomp-profiles-operator' },
        ...(existing?.metadata?.resourceVersion
          ? { resourceVersion: existing.metadata.resourceVersion }
          : {}),
      },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
    };
    if (existing) await this.core.replaceNamespacedSecret({ name, namespace: this.options.namespace, body });
    else await this.core.createNamespacedSecret({ namespace: this.options.namespace, body });
  }

  /** One pass: issue what is missing or due, publish the bundle, then the serving pair. Idempotent. */
  async reconcile(): Promise<{ issued: string[] }> {
    const { log, metrics, policy } = this.options;
    const now = this.options.now?.() ?? new Date();
    const caSecret = await this.readSecret(CA_SECRET);
    const servingSecret = await this.readSecret(SERVING_SECRET);
    // A failure to read it (say, RBAC without this Secret) must not hold up the webhook's certificates: it is
    // raised once they are in place.
    let metricsError: unknown;
    const metricsSecret = await this.readSecret(METRICS_SECRET).catch((e: unknown) => {
      metricsError = e;
      return undefined;
    });
    const stored: StoredCerts = {
      caCertPem: unb64(caSecret?.data?.['ca.crt']),
      caKeyPem: unb64(caSecret?.data?.['ca.key']),
      bundlePem: unb64(caSecret?.data?.['bundle.crt']),
      servingCertPem: unb64(servingSecret?.data?.['tls.crt']),
      servingKeyPem: unb64(servingSecret?.data?.['tls.key']),
      metrics: {
        certPem: unb64(metricsSecret?.data?.['tls.crt']),
        keyPem: unb64(metricsSecret?.data?.['tls.key']),
      },
    };
    const hostsForMetrics = metricsHosts(this.options.namespace);
    const plan = planCertificates(
      stored,
      metricsError === undefined ? { ...policy, metricsHosts: hostsForMetrics } : policy,
      now,
    );
    const issued: string[] = [];
    let ca: IssuedCert = { certPem: stored.caCertPem ?? '', keyPem: stored.caKeyPem ?? '' };
    let bundle = [...plan.keptBundle];
    if (plan.newCa) {
      ca = await createCa(
        `seccomp-profiles-operator-webhook-ca@${Math.floor(now.getTime() / 1000)}`,
        policy.caValidDays,
        now,
      );
      bundle.push(ca.certPem);
      issued.push('ca');
      metrics.certRenewals.inc({ kind: 'ca' });
    }
    bundle = bundle.filter((c, i) => bundle.indexOf(c) === i);
    const bundlePem = bundle.join('');
    if (plan.newCa || bundlePem !== (stored.bundlePem ?? '')) {
      await this.writeSecret(caSecret, CA_SECRET, 'Opaque', {
        'ca.crt': ca.certPem,
        'ca.key': ca.keyPem,
        'bundle.crt': bundlePem,
      });
    }
    // Trust first, then serve: the apiserver must accept the new certificate before any replica presents it.
    await this.publishBundle(bundlePem);
    let serving = { certPem: stored.servingCertPem ?? '', keyPem: stored.servingKeyPem ?? '' };
    const servingBundle = unb64(servingSecret?.data?.['ca.crt']);
    if (plan.newServing) {
      serving = await issueServing(ca, policy.hosts, policy.servingValidDays, now);
      issued.push('serving');
      metrics.certRenewals.inc({ kind: 'serving' });
    }
    if (plan.newServing || servingBundle !== bundlePem) {
      await this.writeSecret(servingSecret, SERVING_SECRET, 'kubernetes.io/tls', {
        'tls.crt': serving.certPem,
        'tls.key': serving.keyPem,
        'ca.crt': bundlePem,
      });
    }
    if (this.options.certDir) await writeCertDir(this.options.certDir, serving, bundlePem);
    if (metricsError !== undefined) throw metricsError;
    let metricsPair = { certPem: stored.metrics?.certPem ?? '', keyPem: stored.metrics?.keyPem ?? '' };
    if (plan.newMetrics) {
      metricsPair = await issueServing(ca, hostsForMetrics, policy.servingValidDays, now);
      issued.push('metrics');
      metrics.certRenewals.inc({ kind: 'metrics' });
    }
    if (plan.newMetrics || unb64(metricsSecret?.data?.['ca.crt']) !== bundlePem) {
      await this.writeSecret(metricsSecret, METRICS_SECRET, 'kubernetes.io/tls', {
        'tls.crt': metricsPair.certPem,
        'tls.key': metricsPair.keyPem,
        'ca.crt': bundlePem,
      });
    }
    if (issued.length > 0) log.info({ issued, reasons: plan.reasons }, 'certificates issued');
    return { issued };
  }

  private async publishBundle(bundlePem: string): Promise<void> {
    const name = this.options.webhookConfiguration;
    let config: Awaited<ReturnType<AdmissionregistrationV1Api['readMutatingWebhookConfiguration']>>;
    try {
      config = await this.admission.readMutatingWebhookConfiguration({ name });
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
      this.options.log.warn({ name }, 'webhook configuration not found; caBundle not published yet');
      return;
    }
    const want = b64(bundlePem);
    const ops = (config.webhooks ?? []).flatMap((w, i) =>
      w.clientConfig.caBundle === want
        ? []
        : [{ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: want }],
    );
    if (ops.length === 0) return;
    // The test op makes a concurrent edit of the webhook list fail the patch instead of hitting the wrong entry.
    const guard = { op: 'test', path: '/metadata/resourceVersion', value: config.metadata?.resourceVersion };
    await this.admission.patchMutatingWebhookConfiguration(
      { name, body: [guard, ...ops] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    this.options.log.info({ name, webhooks: ops.length }, 'caBundle published');
  }
}

async function writeIfChanged(file: string, text: string): Promise<boolean> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === text) return false;
  await writeFile(`${file}.tmp`, text, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  return true;
}

/** Key before certificate: a reader that sees the new certificate always finds its key already there. */
async function writeCertDir(dir: string, serving: IssuedCert, bundlePem: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeIfChanged(join(dir, 'tls.key'), serving.keyPem);
  await writeIfChanged(join(dir, 'tls.crt'), serving.certPem);
  await writeIfChanged(join(dir, 'ca.crt'), bundlePem);
}
