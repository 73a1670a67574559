// webhook-certs/gen.sh as its README uses it: the certificates it writes start the real webhook over TLS, and
// they name the Service the manifests deploy, so the same pair also serves a webhook reached through it.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { WEBHOOK_SERVICE_NAME } from '../../../src/webhook/configuration.js';
import { httpsRequest, repoRoot, spawnRole, unreachableKubeconfig } from './helpers.js';

const NAMESPACE = 'dev-certs-ns';

t.test('gen.sh certificates serve the real webhook and name the Service', async (t) => {
  const dir = t.testdir({});
  const out = join(dir, 'certs');
  // A key an earlier run (or a careless copy) left readable by others: rewriting it must not keep that mode.
  mkdirSync(out, { mode: 0o700 });
  writeFileSync(join(out, 'tls.key'), 'stale', { mode: 0o644 });
  const gen = spawnSync('bash', [join(repoRoot, 'webhook-certs/gen.sh'), out, NAMESPACE], {
    encoding: 'utf8',
  });
  t.equal(gen.status, 0, 'gen.sh succeeds', { stderr: gen.stderr });

  const ca = readFileSync(join(out, 'ca.crt'), 'utf8');
  t.equal(
    gen.stdout.trim(),
    `caBundle: ${Buffer.from(ca).toString('base64')}`,
    'prints the caBundle of the CA it wrote',
  );
  for (const key of ['ca.key', 'tls.key']) {
    t.equal(statSync(join(out, key)).mode & 0o077, 0, `${key} readable by its owner only`);
  }

  const serving = new X509Certificate(readFileSync(join(out, 'tls.crt')));
  t.ok(serving.verify(new X509Certificate(ca).publicKey), 'issued by the CA it wrote');
  const service = `${WEBHOOK_SERVICE_NAME}.${NAMESPACE}.svc`;
  for (const host of [service, `${service}.cluster.local`, 'localhost']) {
    t.ok(serving.checkHost(host), `names ${host}`);
  }
  t.ok(serving.checkIP('127.0.0.1'), 'names 127.0.0.1');

  const proc = spawnRole('webhook', [
    '--host=127.0.0.1',
    '--port=0',
    `--cert-dir=${out}`,
    `--kubeconfig=${unreachableKubeconfig(dir)}`,
  ]);
  t.teardown(() => proc.stop('SIGKILL'));
  const listening = await proc.line((l) => l['msg'] === 'webhook listening', 'listening');
  const res = await httpsRequest(`https://127.0.0.1:${listening['port'] as number}/healthz`, { ca });
  t.equal(res.status, 200, 'a client trusting only the generated CA reaches /healthz');
});
