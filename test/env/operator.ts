// The operator's webhook and manager as local processes against the local cluster, the way `scripts/dev up`
// should run them: each under its manifest ServiceAccount (impersonation), the MutatingWebhookConfiguration
// from manifests/ but pointed at https://127.0.0.1:<port>, certificates issued by the manager itself
// (`selfsigned`) and handed to the webhook through a directory, as a mounted Secret would.
// Owned by the webhook issue; `scripts/dev` only calls ensureOperator / stopOperator.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  type KubeConfig,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
} from '@kubernetes/client-node';
import { WEBHOOK_CONFIGURATION_NAME, webhookConfiguration } from '../../src/webhook/configuration.js';
import { get } from './http.js';
import { paths, repoRoot } from './layout.js';
import { assertRunning, runningPid, startDaemon, stopDaemon } from './processes.js';
import { waitFor } from './wait.js';

export const OPERATOR_NAMESPACE = 'security-profiles-operator';
export const webhookDaemon = 'spo-webhook';
export const managerDaemon = 'spo-manager';

function envPort(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name} is not a TCP port`);
  return n;
}

export const operatorPorts = {
  webhook: envPort('SPO_DEV_WEBHOOK_PORT', 19443),
  manager: envPort('SPO_DEV_MANAGER_PORT', 18080),
};

/** Under .dev/state, so `scripts/dev down` wipes it with the cluster it belongs to. */
export const operatorPaths = {
  dir: join(paths.state, 'operator'),
  certDir: join(paths.state, 'operator/certs'),
  webhookKubeconfig: join(paths.state, 'operator/webhook.kubeconfig'),
  managerKubeconfig: join(paths.state, 'operator/manager.kubeconfig'),
};

export const webhookUrl = () => `https://127.0.0.1:${operatorPorts.webhook}`;

// Everything in the base except what runs in-cluster (Deployments, Service, PDB) and the CRDs `up` applies.
const BASE_FILES = [
  'namespace.yaml',
  'service-accounts.yaml',
  'rbac-webhook.yaml',
  'rbac-manager.yaml',
  'rbac-daemon.yaml',
];

async function apply(kc: KubeConfig, doc: Record<string, unknown>): Promise<void> {
  const objects = kc.makeApiClient(KubernetesObjectApi);
  await objects.patch(doc as never, undefined, undefined, 'spo-dev', true, PatchStrategy.ServerSideApply);
}

/** Namespace, ServiceAccounts, RBAC and the webhook configuration (URL form, no caBundle: the manager adds it). */
export async function installOperatorBase(kc: KubeConfig): Promise<void> {
  for (const file of BASE_FILES) {
    for (const doc of loadAllYaml(readFileSync(join(repoRoot, 'manifests/base', file), 'utf8'))) {
      if (doc) await apply(kc, doc as Record<string, unknown>);
    }
  }
  await apply(kc, webhookConfiguration({ url: webhookUrl() }, OPERATOR_NAMESPACE));
}

/** A kubeconfig that authenticates as admin and acts as the ServiceAccount, so RBAC is exactly the manifests'. */
export function writeServiceAccountKubeconfig(file: string, serviceAccount: string): void {
  const admin = readFileSync(paths.kubeconfig, 'utf8');
  const doc = JSON.parse(JSON.stringify(loadAllYaml(admin)[0])) as {
    users: Array<{ name: string; user: Record<string, unknown> }>;
  };
  for (const u of doc.users) u.user['as'] = `system:serviceaccount:${OPERATOR_NAMESPACE}:${serviceAccount}`;
  mkdirSync(operatorPaths.dir, { recursive: true });
  writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
}

const cli = [process.execPath, '--import=tsx', join(repoRoot, 'src/cli/main.ts')];

export function startManager(): number {
  return startDaemon(
    managerDaemon,
    [
      ...cli,
      'manager',
      `--kubeconfig=${operatorPaths.managerKubeconfig}`,
      `--operator-namespace=${OPERATOR_NAMESPACE}`,
      '--host=127.0.0.1',
      `--port=${operatorPorts.manager}`,
      `--cert-dir=${operatorPaths.certDir}`,
      '--cert-host=127.0.0.1',
      '--cert-host=localhost',
      '--cert-check-seconds=5',
    ],
    // Profile status names the file on the node; the local node's kubelet directory is not the default one.
    // The local node cannot pull the operator image, so the node roles run as processes here and the manager
    // only reports on the DaemonSet instead of creating pods that could never start.
    { KUBELET_DIR: paths.kubeletDir, SPOD_MANAGE_DAEMONSET: 'false' },
  );
}

export function startWebhook(): number {
  return startDaemon(webhookDaemon, [
    ...cli,
    'webhook',
    `--kubeconfig=${operatorPaths.webhookKubeconfig}`,
    `--operator-namespace=${OPERATOR_NAMESPACE}`,
    '--host=127.0.0.1',
    `--port=${operatorPorts.webhook}`,
    `--cert-dir=${operatorPaths.certDir}`,
    '--cert-poll-seconds=2',
  ]);
}

export async function waitManagerReady(): Promise<void> {
  await waitFor(
    async () => {
      assertRunning(managerDaemon);
      return (
        (await get(`http://127.0.0.1:${operatorPorts.manager}/readyz`, { timeoutMs: 2_000 })).status === 200
      );
    },
    { what: 'the manager to be ready (certificates issued, caches synced)', timeoutMs: 60_000 },
  );
}

export async function waitWebhookReady(): Promise<void> {
  await waitFor(
    async () => {
      assertRunning(webhookDaemon);
      const res = await get(`${webhookUrl()}/readyz`, {
        caFile: join(operatorPaths.certDir, 'ca.crt'),
        timeoutMs: 2_000,
      });
      return res.status === 200;
    },
    { what: 'the webhook to be ready (caches synced)', timeoutMs: 60_000 },
  );
}

/** Idempotent: installs the base and starts whichever of the two processes is not running. */
export async function ensureOperator(kc: KubeConfig): Promise<{ started: string[] }> {
  await installOperatorBase(kc);
  writeServiceAccountKubeconfig(operatorPaths.managerKubeconfig, 'spo-manager');
  writeServiceAccountKubeconfig(operatorPaths.webhookKubeconfig, 'spo-webhook');
  const started: string[] = [];
  if (runningPid(managerDaemon) === undefined) {
    startManager();
    started.push(managerDaemon);
  }
  await waitManagerReady();
  if (runningPid(webhookDaemon) === undefined) {
    if (!existsSync(join(operatorPaths.certDir, 'tls.crt')))
      throw new Error('manager wrote no serving certificate');
    startWebhook();
    started.push(webhookDaemon);
  }
  await waitWebhookReady();
  await waitCaBundle(kc);
  return { started };
}

/** Until the apiserver trusts the webhook: the manager has patched the current CA bundle into both webhooks. */
export async function waitCaBundle(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  await waitFor(
    async () => {
      const want = Buffer.from(readFileSync(join(operatorPaths.certDir, 'ca.crt'))).toString('base64');
      const config = await api.readMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME });
      return (config.webhooks ?? []).every((w) => w.clientConfig.caBundle === want);
    },
    { what: 'the caBundle in the webhook configuration', timeoutMs: 60_000 },
  );
}

export async function stopOperator(): Promise<void> {
  await stopDaemon(webhookDaemon);
  await stopDaemon(managerDaemon);
}
