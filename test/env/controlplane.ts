// etcd, kube-apiserver, kube-controller-manager and kube-scheduler on loopback,
// each authenticated with its own client certificate (pki.ts), RBAC + Node
// authorization, admission webhooks on (they are on by default).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { healthy } from './http.js';
import { paths, ports, serviceSubnet } from './layout.js';
import { identities, kubeconfigFor, pki } from './pki.js';
import { assertRunning, runningPid, startDaemon } from './processes.js';
import { waitFor } from './wait.js';

export const apiserverUrl = `https://127.0.0.1:${ports.apiserver}`;

const adminTls = {
  caFile: pki.caCert,
  certFile: pki.cert(identities.admin),
  keyFile: pki.key(identities.admin),
};

/** Starts `name` unless it runs, then waits for `probe`, failing early with its log if it dies. */
async function ensure(
  name: string,
  argv: string[],
  probe: () => Promise<true>,
  timeoutMs = 60_000,
): Promise<void> {
  if (runningPid(name) === undefined) startDaemon(name, argv);
  await waitFor(
    async () => {
      assertRunning(name);
      return probe();
    },
    { what: `${name} to become ready`, timeoutMs },
  );
}

export function writeKubeconfigs(): void {
  mkdirSync(paths.kubeconfigs, { recursive: true });
  writeFileSync(paths.kubeconfig, kubeconfigFor(identities.admin, apiserverUrl), { mode: 0o600 });
  for (const id of [identities.controllerManager, identities.scheduler, identities.kubelet]) {
    writeFileSync(join(paths.kubeconfigs, `${id.file}.kubeconfig`), kubeconfigFor(id, apiserverUrl), {
      mode: 0o600,
    });
  }
}

export function componentKubeconfig(file: string): string {
  return join(paths.kubeconfigs, `${file}.kubeconfig`);
}

export async function ensureEtcd(bin: string): Promise<void> {
  mkdirSync(paths.etcdData, { recursive: true, mode: 0o700 });
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  await ensure(
    'etcd',
    [
      join(bin, 'etcd'),
      '--name=spo-dev',
      `--data-dir=${paths.etcdData}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-cluster=spo-dev=http://127.0.0.1:${ports.etcdPeer}`,
      // Test data is disposable; fsync is most of etcd's latency on small VMs.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    async () => {
      await healthy(`${client}/health`);
      return true;
    },
  );
}

export async function ensureApiserver(bin: string, nodeIp: string): Promise<void> {
  await ensure(
    'kube-apiserver',
    [
      join(bin, 'kube-apiserver'),
      `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
      '--bind-address=127.0.0.1',
      `--advertise-address=${nodeIp}`,
      `--secure-port=${ports.apiserver}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      `--service-cluster-ip-range=${serviceSubnet}`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      `--kubelet-client-certificate=${pki.cert(identities.apiserverKubeletClient)}`,
      `--kubelet-client-key=${pki.key(identities.apiserverKubeletClient)}`,
      '--kubelet-preferred-address-types=InternalIP',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=1',
    ],
    () => healthy(`${apiserverUrl}/readyz`, adminTls),
  );
}

export async function ensureControllerManager(bin: string): Promise<void> {
  const kubeconfig = componentKubeconfig(identities.controllerManager.file);
  mkdirSync(paths.kcmCerts, { recursive: true });
  await ensure(
    'kube-controller-manager',
    [
      join(bin, 'kube-controller-manager'),
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      `--cert-dir=${paths.kcmCerts}`,
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      '--use-service-account-credentials=true',
      `--service-cluster-ip-range=${serviceSubnet}`,
      // One replica on a throwaway cluster: a lease would only delay start-up.
      '--leader-elect=false',
      '--controllers=*',
      '--v=1',
    ],
    () => healthy(`https://127.0.0.1:${ports.controllerManager}/healthz`, { insecure: true }),
  );
}

export async function ensureScheduler(bin: string): Promise<void> {
  const kubeconfig = componentKubeconfig(identities.scheduler.file);
  mkdirSync(paths.schedulerCerts, { recursive: true });
  await ensure(
    'kube-scheduler',
    [
      join(bin, 'kube-scheduler'),
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.scheduler}`,
      `--cert-dir=${paths.schedulerCerts}`,
      '--leader-elect=false',
      '--v=1',
    ],
    () => healthy(`https://127.0.0.1:${ports.scheduler}/healthz`, { insecure: true }),
  );
}

export function apiserverTls() {
  return adminTls;
}
