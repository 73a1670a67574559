import { type CertInfo, certInfo, signedBy, splitPem } from './x509.js';

export interface CertPolicy {
  readonly caValidDays: number;
  readonly servingValidDays: number;
  /** Renew the serving certificate when less than this much of its life is left. */
  readonly servingRenewBeforeDays: number;
  /** Hosts the serving certificate must name (Service DNS names, 127.0.0.1 for local runs). */
  readonly hosts: readonly string[];
}

export const DEFAULT_CERT_POLICY: Omit<CertPolicy, 'hosts'> = {
  caValidDays: 3650,
  servingValidDays: 90,
  servingRenewBeforeDays: 30,
};

/** What is stored now; any part may be missing or garbage. */
export interface StoredCerts {
  readonly caCertPem?: string;
  readonly caKeyPem?: string;
  /** Every CA the apiserver should trust: the current one and older ones not yet expired. */
  readonly bundlePem?: string;
  readonly servingCertPem?: string;
  readonly servingKeyPem?: string;
}

export interface CertPlan {
  readonly newCa: boolean;
  readonly newServing: boolean;
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
 * Decides which certificates to (re)issue. The CA is replaced while it still outlives two serving lifetimes,
 * so a serving certificate never outlives its CA and the old CA stays in the bundle until it expires: the
 * apiserver trusts both the old and the new serving certificate during the hand-over, so nothing fails.
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

  const serving = parse(stored.servingCertPem);
  let newServing = newCa;
  if (newCa) reasons.push('serving certificate follows the new CA');
  else if (!serving || !stored.servingKeyPem) {
    newServing = true;
    reasons.push('no serving certificate');
  } else if (serving.notAfter.getTime() - t < policy.servingRenewBeforeDays * DAY_MS) {
    newServing = true;
    reasons.push(`serving certificate expires ${serving.notAfter.toISOString()}`);
  } else if (!signedBy(stored.servingCertPem as string, stored.caCertPem as string)) {
    newServing = true;
    reasons.push('serving certificate not signed by the current CA');
  } else {
    const named = new Set([...serving.dnsNames, ...serving.ipAddresses]);
    const missing = policy.hosts.filter((h) => !named.has(h));
    if (missing.length > 0) {
      newServing = true;
      reasons.push(`serving certificate does not name ${missing.join(', ')}`);
    }
  }
  return { newCa, newServing, keptBundle, reasons };
}
