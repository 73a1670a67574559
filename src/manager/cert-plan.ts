import { type CertInfo, certInfo, signedBy, splitPem } from './x509.js';

export interface CertPolicy {
  readonly caValidDays: number;
  readonly servingValidDays: number;
  /** Renew the serving certificate when less than this much of its life is left. */
  readonly servingRenewBeforeDays: number;
  /** Hosts the serving certificate must name (Service DNS names, 127.0.0.1 for local runs). */
  readonly hosts: readonly string[];
  /** Hosts the daemons' metrics certificate must name; absent: no metrics certificate is planned. */
  readonly metricsHosts?: readonly string[];
}

export const DEFAULT_CERT_POLICY: Omit<CertPolicy, 'hosts'> = {
  caValidDays: 3650,
  servingValidDays: 90,
  servingRenewBeforeDays: 30,
};

/** The Service the daemons' metrics sit behind (as the seed names it: `metrics`, port 443). */
export const METRICS_SERVICE = 'metrics';

/**
 * Every name a client inside the cluster may use for the metrics Service: the seed's own example curls
 * `https://metrics.security-profiles-operator/...`, so the short forms must verify too.
 */
export function metricsHosts(namespace: string): string[] {
  const svc = `${METRICS_SERVICE}.${namespace}`;
  return [`${svc}.svc`, `${svc}.svc.cluster.local`, svc, METRICS_SERVICE];
}

/** A stored serving pair; either part may be missing or garbage. */
export interface StoredPair {
  readonly certPem?: string | undefined;
  readonly keyPem?: string | undefined;
}

/** What is stored now; any part may be missing or garbage. */
export interface StoredCerts {
  readonly caCertPem?: string;
  readonly caKeyPem?: string;
  /** Every CA the apiserver should trust: the current one and older ones not yet expired. */
  readonly bundlePem?: string;
  readonly servingCertPem?: string;
  readonly servingKeyPem?: string;
  /** The daemons' metrics serving pair (Secret metrics-server-cert). */
  readonly metrics?: StoredPair;
}

export interface CertPlan {
  readonly newCa: boolean;
  readonly newServing: boolean;
  /** Issue a new metrics serving certificate (always false without `policy.metricsHosts`). */
  readonly newMetrics: boolean;
  /** The CA bundle to publish, before a new CA is appended; expired and unparsable entries dropped. */
  readonly keptBundle: readonly string[];
  readonly reasons: readonly string[];
}

const DAY_MS = 86_400_000;

function parse(pem: string | undefined): CertInfo | undefined {
  if (!pem) return undefined;
  try {
    return certInfo(pem);
  } catch {
    return undefined;
  }
}

/**
 * Why one serving certificate must be issued again under the current CA, or undefined when it may stay:
 * missing, due for renewal, signed by another CA, or not naming every host it must.
 */
export function servingRenewal(
  pair: StoredPair,
  caCertPem: string | undefined,
  hosts: readonly string[],
  renewBeforeDays: number,
  now: Date,
): string | undefined {
  const serving = parse(pair.certPem);
  if (!serving || !pair.keyPem) return 'no serving certificate';
  if (serving.notAfter.getTime() - now.getTime() < renewBeforeDays * DAY_MS) {
    return `serving certificate expires ${serving.notAfter.toISOString()}`;
  }
  if (caCertPem === undefined || !signedBy(pair.certPem as string, caCertPem)) {
    return 'serving certificate not signed by the current CA';
  }
  const named = new Set([...serving.dnsNames, ...serving.ipAddresses]);
  const missing = hosts.filter((h) => !named.has(h));
  if (missing.length > 0) return `serving certificate does not name ${missing.join(', ')}`;
  return undefined;
}

/**
 * Decides which certificates to (re)issue. The CA is replaced while it still outlives two serving lifetimes,
 * so a serving certificate never outlives its CA and the old CA stays in the bundle until it expires: the
 * apiserver trusts both the old and the new serving certificate during the hand-over, so nothing fails.
 * The metrics certificate is one more serving certificate under the same CA, with its own Service names.
 */
export function planCertificates(stored: StoredCerts, policy: CertPolicy, now: Date): CertPlan {
  const reasons: string[] = [];
  const t = now.getTime();
  const ca = parse(stored.caCertPem);
  let newCa = false;
  if (!ca || !stored.caKeyPem) {
    newCa = true;
    reasons.push('no CA');
  } else if (ca.notAfter.getTime() - t < 2 * policy.servingValidDays * DAY_MS) {
    newCa = true;
    reasons.push(`CA expires ${ca.notAfter.toISOString()}`);
  }
  const keptBundle = [...splitPem(stored.bundlePem ?? ''), ...(stored.caCertPem ? [stored.caCertPem] : [])]
    .filter((pem, i, all) => all.indexOf(pem) === i)
    .filter((pem) => {
      const info = parse(pem);
      return info !== undefined && info.notAfter.getTime() > t;
    });

  const renewal = (pair: StoredPair, hosts: readonly string[]) =>
    newCa
      ? 'serving certificate follows the new CA'
      : servingRenewal(pair, stored.caCertPem, hosts, policy.servingRenewBeforeDays, now);
  const serving = renewal({ certPem: stored.servingCertPem, keyPem: stored.servingKeyPem }, policy.hosts);
  if (serving !== undefined) reasons.push(serving);
  const metrics =
    policy.metricsHosts !== undefined ? renewal(stored.metrics ?? {}, policy.metricsHosts) : undefined;
  if (metrics !== undefined) reasons.push(`metrics: ${metrics}`);
  return { newCa, newServing: serving !== undefined, newMetrics: metrics !== undefined, keptBundle, reasons };
}
