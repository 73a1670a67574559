import 'reflect-metadata';
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// The library defaults to globalThis.crypto; Node 20 has it, but naming the provider keeps it explicit.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

// ECDSA P-256: as strong as RSA-3072 for this purpose, and key generation takes milliseconds, not seconds.
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface IssuedCert {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertInfo {
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subject: string;
  readonly issuer: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly fingerprint: string;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)?.join('\n')}\n-----END ${label}-----\n`;
}

function derOf(pemText: string): Buffer {
  return Buffer.from(pemText.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function exportKey(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

// Backdated so a node whose clock is a little behind still accepts a fresh certificate.
const backdate = (now: Date) => new Date(now.getTime() - 60 * 60 * 1000);

/** A self-signed CA that may sign only leaf certificates (path length 0). */
export async function createCa(commonName: string, validDays: number, now = new Date()): Promise<IssuedCert> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    notBefore: backdate(now),
    notAfter: new Date(now.getTime() + validDays * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: `${cert.toString('pem').trim()}\n`, keyPem: await exportKey(keys.privateKey) };
}

/** A TLS server certificate for `hosts` (DNS names or IP addresses), signed by `ca`. */
export async function issueServing(
  ca: IssuedCert,
  hosts: readonly string[],
  validDays: number,
  now = new Date(),
): Promise<IssuedCert> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', derOf(ca.keyPem), KEY_ALGORITHM, false, ['sign']);
  const keys = await newKeys();
  const names = hosts.map((h) =>
    isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h },
  );
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${hosts[0] ?? 'webhook'}`,
    issuer: caCert.subject,
    notBefore: backdate(now),
    notAfter: new Date(now.getTime() + validDays * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    // The library types keys with the DOM's CryptoKey, which this Node-only build does not declare.
    signingKey: caKey as never,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return { certPem: `${cert.toString('pem').trim()}\n`, keyPem: await exportKey(keys.privateKey) };
}

/** Every certificate in a PEM bundle, in order. */
export function splitPem(bundle: string): string[] {
  return (
    bundle
      .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)
      ?.map((c) => c.trim() + '\n') ?? []
  );
}

export function certInfo(certPem: string): CertInfo {
  const c = new NodeX509(certPem);
  const sans = (c.subjectAltName ?? '').split(', ').filter(Boolean);
  return {
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
    subject: c.subject,
    issuer: c.issuer,
    dnsNames: sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
    ipAddresses: sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11)),
    fingerprint: c.fingerprint256,
  };
}

/** True when `certPem` carries a signature made by `caPem`'s key. */
export function signedBy(certPem: string, caPem: string): boolean {
  try {
    const cert = new NodeX509(certPem);
    const ca = new NodeX509(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}
