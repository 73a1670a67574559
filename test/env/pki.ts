// Certificates for the local cluster, made with Debian's openssl: one CA signs
// the apiserver's serving cert and a client cert per identity, so every
// component authenticates as the user upstream's bootstrap RBAC expects.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from './layout.js';

export interface ClientIdentity {
  file: string;
  cn: string;
  orgs?: string[];
}

// CN/O are what the apiserver turns into user and groups.
export const identities = {
  admin: { file: 'admin', cn: 'admin', orgs: ['system:masters'] },
  controllerManager: { file: 'kube-controller-manager', cn: 'system:kube-controller-manager' },
  scheduler: { file: 'kube-scheduler', cn: 'system:kube-scheduler' },
  kubelet: { file: 'kubelet', cn: 'system:node:dev-node', orgs: ['system:nodes'] },
  apiserverKubeletClient: {
    file: 'apiserver-kubelet-client',
    cn: 'kube-apiserver-kubelet-client',
    orgs: ['system:masters'],
  },
} satisfies Record<string, ClientIdentity>;

export const pki = {
  caCert: join(paths.pki, 'ca.crt'),
  caKey: join(paths.pki, 'ca.key'),
  apiserverCert: join(paths.pki, 'apiserver.crt'),
  apiserverKey: join(paths.pki, 'apiserver.key'),
  saKey: join(paths.pki, 'sa.key'),
  saPub: join(paths.pki, 'sa.pub'),
  cert: (id: ClientIdentity) => join(paths.pki, `${id.file}.crt`),
  key: (id: ClientIdentity) => join(paths.pki, `${id.file}.key`),
};

function openssl(args: string[], input?: string): void {
  execFileSync('openssl', args, {
    stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
    input,
  });
}

function ecKey(path: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

function signed(name: string, subject: string, extensions: string): void {
  const key = join(paths.pki, `${name}.key`);
  const csr = join(paths.pki, `${name}.csr`);
  const ext = join(paths.pki, `${name}.ext`);
  ecKey(key);
  openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  writeFileSync(ext, extensions);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-CAcreateserial',
    '-days',
    '365',
    '-extfile',
    ext,
    '-out',
    join(paths.pki, `${name}.crt`),
  ]);
}

function subject(cn: string, orgs: string[] = []): string {
  return orgs.map((o) => `/O=${o}`).join('') + `/CN=${cn}`;
}

/** Creates whatever is missing; existing certs are kept so kubeconfigs stay valid across `up`s. */
export function ensurePki(nodeIp: string): void {
  mkdirSync(paths.pki, { recursive: true, mode: 0o700 });
  if (!existsSync(pki.caCert)) {
    ecKey(pki.caKey);
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      pki.caKey,
      '-subj',
      '/CN=spo-dev-ca',
      '-days',
      '365',
      '-out',
      pki.caCert,
    ]);
  }
  const sans = [
    'IP:127.0.0.1',
    `IP:${nodeIp}`,
    'IP:10.0.0.1',
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  const sanMarker = join(paths.pki, 'apiserver.sans');
  if (
    !existsSync(pki.apiserverCert) ||
    !existsSync(sanMarker) ||
    readFileSync(sanMarker, 'utf8') !== sans.join(',')
  ) {
    signed(
      'apiserver',
      '/CN=kube-apiserver',
      `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth\n`,
    );
    writeFileSync(sanMarker, sans.join(','));
  }
  for (const id of Object.values(identities) as ClientIdentity[]) {
    if (!existsSync(pki.cert(id))) signed(id.file, subject(id.cn, id.orgs), 'extendedKeyUsage=clientAuth\n');
  }
  if (!existsSync(pki.saKey)) {
    openssl(['genrsa', '-out', pki.saKey, '2048']);
    openssl(['rsa', '-in', pki.saKey, '-pubout', '-out', pki.saPub]);
  }
}

function b64(path: string): string {
  return readFileSync(path).toString('base64');
}

/** A kubeconfig with the certs embedded, so it can be copied or read by any client. */
export function kubeconfigFor(id: ClientIdentity, server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: spo-dev',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.caCert)}`,
    'users:',
    `- name: ${id.file}`,
    '  user:',
    `    client-certificate-data: ${b64(pki.cert(id))}`,
    `    client-key-data: ${b64(pki.key(id))}`,
    'contexts:',
    `- name: ${id.file}@spo-dev`,
    '  context:',
    '    cluster: spo-dev',
    `    user: ${id.file}`,
    `current-context: ${id.file}@spo-dev`,
    '',
  ].join('\n');
}
