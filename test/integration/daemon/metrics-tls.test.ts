// The daemon's metrics as the seed serves them: the manager issues Secret metrics-server-cert from its CA, a
// daemon given that pair (as the DaemonSet mounts it) answers /metrics-spod over TLS that verifies with the
// Secret's ca.crt under the Service's names, and only to a token whose account the shipped ClusterRole
// spo-metrics-client is bound to. A renewed Secret reaches the running daemon without a restart.
import { X509Certificate } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { SecureVersion, TLSSocket } from 'node:tls';
import { AuthorizationV1Api, RbacAuthorizationV1Api, type V1Secret } from '@kubernetes/client-node';
import t from 'tap';
import { CA_SECRET } from '../../../src/manager/certificates.js';
import { paths } from '../../env/layout.js';
import {
  installOperatorBase,
  managerDaemon,
  OPERATOR_NAMESPACE,
  operatorPaths,
  startManager,
  waitManagerReady,
  writeServiceAccountKubeconfig,
} from '../../env/operator.js';
import { runningPid, stopDaemon } from '../../env/processes.js';
import { createNamespace, deleteNamespace, requireCluster, waitFor } from '../../helpers/cluster.js';
import { type RoleProcess, startNodeDaemon, startRole } from '../../helpers/role-process.js';

const SECRET = 'metrics-server-cert';
const SERVICE_NAMES = [
  `metrics.${OPERATOR_NAMESPACE}.svc`,
  `metrics.${OPERATOR_NAMESPACE}`,
  `metrics.${OPERATOR_NAMESPACE}.svc.cluster.local`,
];

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly fingerprint: string;
  readonly protocol: string | null;
}

/** GET over TLS to 127.0.0.1, verifying the certificate as a client of the Service would (by its name). */
function get(
  url: string,
  options: { ca?: string; token?: string; servername?: string; maxVersion?: SecureVersion },
  // Node checks the certificate against `servername` when set, not against the IP it connects to.
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        agent: false,
        timeout: 10_000,
        servername: options.servername ?? SERVICE_NAMES[0],
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        // An old protocol needs the client's own floor and security level lowered, or it never asks.
        ...(options.maxVersion !== undefined
          ? { maxVersion: options.maxVersion, minVersion: 'TLSv1' as const, ciphers: 'DEFAULT@SECLEVEL=0' }
          : {}),
        headers: options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {},
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            fingerprint: socket.getPeerCertificate().fingerprint256,
            protocol: socket.getProtocol(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

const decode = (s: V1Secret, key: string) => Buffer.from(s.data?.[key] ?? '', 'base64').toString();

/** What the kubelet does for a mounted Secret: every key as a file, swapped in whole. */
function mount(dir: string, secret: V1Secret): void {
  mkdirSync(dir, { recursive: true });
  for (const key of ['tls.key', 'tls.crt', 'ca.crt']) {
    writeFileSync(join(dir, `.${key}.tmp`), decode(secret, key), { mode: 0o600 });
    renameSync(join(dir, `.${key}.tmp`), join(dir, key));
  }
}

const cluster = await requireCluster(t);
if (cluster !== undefined) {
  const readSecret = () =>
    cluster.core.readNamespacedSecret({ name: SECRET, namespace: OPERATOR_NAMESPACE }).catch(() => undefined);

  // The manifests' RBAC, so the manager below runs with exactly the rights the base grants it.
  await installOperatorBase(cluster.kc);
  writeServiceAccountKubeconfig(operatorPaths.managerKubeconfig, 'spo-manager');
  // One manager at a time: the dev manager steps aside for one of this tree's sources, and comes back after.
  if (runningPid(managerDaemon) !== undefined) {
    await stopDaemon(managerDaemon);
    t.teardown(async () => {
      startManager();
      await waitManagerReady();
    });
  }
  await cluster.core
    .deleteNamespacedSecret({ name: SECRET, namespace: OPERATOR_NAMESPACE })
    .catch(() => undefined);
  const manager = startRole(
    [
      'manager',
      `--kubeconfig=${operatorPaths.managerKubeconfig}`,
      `--operator-namespace=${OPERATOR_NAMESPACE}`,
      '--host=127.0.0.1',
      '--port=0',
      '--leader-elect=false',
      // The dev manager's certificate settings, so the webhook's own pair is left as it is.
      `--cert-dir=${operatorPaths.certDir}`,
      '--cert-host=127.0.0.1',
      '--cert-host=localhost',
      '--cert-check-seconds=2',
    ],
    { KUBELET_DIR: paths.kubeletDir },
  );
  t.teardown(() => manager.stop());

  const namespace = await createNamespace(cluster, 'mtls');
  t.teardown(() => deleteNamespace(cluster, namespace));
  const certDir = join(t.testdir(), 'metrics');
  let secret: V1Secret | undefined;
  let base = '';
  let ca = '';

  await t.test('the manager issues metrics-server-cert from the webhook CA', async (t) => {
    secret = await waitFor(readSecret, { what: `Secret ${SECRET}`, timeoutMs: 60_000 });
    t.equal(secret.type, 'kubernetes.io/tls');
    t.same(Object.keys(secret.data ?? {}).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
    const cert = new X509Certificate(decode(secret, 'tls.crt'));
    for (const name of [...SERVICE_NAMES, 'metrics']) t.match(cert.subjectAltName, `DNS:${name}`);
    const webhook = await cluster.core.readNamespacedSecret({
      name: 'webhook-server-cert',
      namespace: OPERATOR_NAMESPACE,
    });
    t.equal(decode(secret, 'ca.crt'), decode(webhook, 'ca.crt'), 'the same CA bundle as the webhook');
    // The bundle lists every CA still trusted (after a rotation the current one last): the signer is the
    // current CA, and it is among them.
    const current = await cluster.core.readNamespacedSecret({
      name: CA_SECRET,
      namespace: OPERATOR_NAMESPACE,
    });
    const issuer = new X509Certificate(decode(current, 'ca.crt'));
    t.ok(cert.checkIssued(issuer) && cert.verify(issuer.publicKey), 'signed by the current CA');
    t.ok(decode(secret, 'ca.crt').includes(decode(current, 'ca.crt').trim()), 'which ca.crt lists');
    t.ok(manager.lines.some((l) => l['msg'] === 'certificates issued'));
    t.notOk(
      manager.lines.some((l) => /forbidden/i.test(JSON.stringify(l))),
      'the manifest RBAC lets spo-manager keep the Secret',
    );
  });
  let daemon: RoleProcess | undefined;
  // In a subtest: tap ends a root that awaits anything but a subtest once its last subtest is done.
  await t.test('a daemon started with the mounted Secret listens over HTTPS', async (t) => {
    if (secret === undefined) {
      t.fail('no metrics certificate');
      return;
    }
    mount(certDir, secret);
    ca = decode(secret, 'ca.crt');
    const started = await startNodeDaemon(cluster, ['--tls-cert-dir', certDir]);
    daemon = started.daemon;
    base = started.address;
    t.match(base, /^https:\/\/127\.0\.0\.1:\d+$/);
  });
  t.teardown(() => daemon?.stop());
  if (daemon !== undefined) {
    await t.test(
      'HTTPS only, TLS 1.2 or newer, verifiable with ca.crt under the Service names',
      async (t) => {
        t.match(base, /^https:\/\/127\.0\.0\.1:\d+$/);
        for (const servername of SERVICE_NAMES) {
          const res = await get(`${base}/healthz`, { ca, servername });
          t.equal(res.status, 200, `verifies as ${servername}; probes need no token`);
        }
        t.match((await get(`${base}/readyz`, { ca })).protocol, /^TLSv1\.[23]$/);
        await t.rejects(
          get(`${base}/healthz`, {}),
          /self[- ]signed|unable to verify|issuer/i,
          'not a public CA',
        );
        await t.rejects(
          get(`${base}/healthz`, { ca, servername: 'webhook-service.security-profiles-operator.svc' }),
          /altnames|does not match/i,
          'not valid for another Service',
        );
        // The client can speak TLS 1.1 (lowered floor and security level): the alert comes from the daemon.
        await t.rejects(
          get(`${base}/healthz`, { ca, maxVersion: 'TLSv1.1' }),
          /alert protocol version/,
          'TLS 1.1 refused by the server',
        );
        const plain = base.replace(/^https:/, 'http:');
        await t.rejects(fetch(`${plain}/metrics-spod`), 'plain HTTP refused');
        await t.rejects(fetch(`${plain}/healthz`), 'plain HTTP refused for probes too');
      },
    );

    await t.test(
      'a token bound to spo-metrics-client reads /metrics-spod; others get 401 / 403',
      async (t) => {
        const rbac = cluster.kc.makeApiClient(RbacAuthorizationV1Api);
        for (const sa of ['reader', 'stranger']) {
          await cluster.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
        }
        // The shipped role, bound the way the seed tells users to add a scraper.
        const binding = `spo-metrics-client-${namespace}`;
        await rbac.createClusterRoleBinding({
          body: {
            metadata: { name: binding },
            roleRef: {
              apiGroup: 'rbac.authorization.k8s.io',
              kind: 'ClusterRole',
              name: 'spo-metrics-client',
            },
            subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
          },
        });
        t.teardown(() => rbac.deleteClusterRoleBinding({ name: binding }));
        // The daemon caches an answer per token for a minute: ask only once the apiserver's RBAC has the binding.
        const authz = cluster.kc.makeApiClient(AuthorizationV1Api);
        await waitFor(
          async () =>
            (
              await authz.createSubjectAccessReview({
                body: {
                  spec: {
                    user: `system:serviceaccount:${namespace}:reader`,
                    nonResourceAttributes: { path: '/metrics-spod', verb: 'get' },
                  },
                },
              })
            ).status?.allowed === true,
          { what: 'the binding to reach the authorizer' },
        );
        const token = async (name: string) =>
          (
            await cluster.core.createNamespacedServiceAccountToken({
              name,
              namespace,
              body: { spec: { audiences: [] } },
            })
          ).status?.token ?? '';
        const reader = await token('reader');
        const stranger = await token('stranger');

        t.equal((await get(`${base}/metrics-spod`, { ca })).status, 401, 'no token');
        t.equal((await get(`${base}/metrics-spod`, { ca, token: 'not-a-token' })).status, 401, 'bad token');
        t.equal((await get(`${base}/metrics-spod`, { ca, token: stranger })).status, 403, 'other account');
        const allowed = await get(`${base}/metrics-spod`, { ca, token: reader });
        t.equal(allowed.status, 200, 'the bound account');
        t.match(allowed.body, /# HELP security_profiles_operator_seccomp_profile_total /);
        t.match(allowed.body, /process_resident_memory_bytes/);
        t.equal((await get(`${base}/metrics`, { ca, token: reader })).status, 200, '/metrics is an alias');
      },
    );

    await t.test('a renewed Secret reaches the running daemon', async (t) => {
      const before = await get(`${base}/healthz`, { ca });
      const old = decode(secret as V1Secret, 'tls.crt');
      await cluster.core.deleteNamespacedSecret({ name: SECRET, namespace: OPERATOR_NAMESPACE });
      const renewed = await waitFor(
        async () => {
          const s = await readSecret();
          return s !== undefined && decode(s, 'tls.crt') !== old ? s : undefined;
        },
        { what: 'the manager to issue a new metrics certificate', timeoutMs: 60_000 },
      );
      mount(certDir, renewed);
      const after = await waitFor(
        async () => {
          const res = await get(`${base}/healthz`, { ca: decode(renewed, 'ca.crt') });
          return res.fingerprint !== before.fingerprint ? res : undefined;
        },
        { what: 'the daemon to present the new certificate', timeoutMs: 30_000 },
      );
      t.equal(after.fingerprint, new X509Certificate(decode(renewed, 'tls.crt')).fingerprint256);
      t.ok(await daemon?.waitForLog((l) => l['msg'] === 'serving certificate reloaded', 10_000));
      t.equal(daemon?.child.exitCode, null, 'same daemon process');
    });
  }
}
