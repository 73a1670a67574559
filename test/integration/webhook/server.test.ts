import { X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import { connect } from 'node:tls';
import t from 'tap';
import { waitFor } from '../../env/wait.js';
import { badReviews } from '../../unit/webhook/bad-reviews.js';
import { httpsRequest, makeCerts, spawnRole, unreachableKubeconfig, writeCerts } from './helpers.js';

// The real `seccompctl webhook` process over real TLS; no cluster needed (its caches never sync here,
// which is itself one of the behaviours under test).
t.test('webhook process: TLS, bad reviews, certificate rotation', async (t) => {
  const dir = t.testdir({});
  const certDir = `${dir}/certs`;
  const first = await makeCerts();
  writeCerts(certDir, first);
  const proc = spawnRole('webhook', [
    '--host=127.0.0.1',
    '--port=0',
    `--cert-dir=${certDir}`,
    `--kubeconfig=${unreachableKubeconfig(dir)}`,
    '--cert-poll-seconds=1',
  ]);
  t.teardown(() => proc.stop('SIGKILL'));
  const listening = await proc.line((l) => l['msg'] === 'webhook listening', 'listening');
  const base = `https://127.0.0.1:${listening['port'] as number}`;
  let ca: string | string[] = first.ca.certPem;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());

  t.test('health, readiness, HTTP/1.1 only, TLS 1.2 minimum', async (t) => {
    t.equal((await httpsRequest(`${base}/healthz`, { ca })).status, 200);
    t.equal((await httpsRequest(`${base}/readyz`, { ca })).status, 503, 'not ready: caches never synced');
    const proto = await new Promise<string | false>((resolve, reject) => {
      const s = connect({
        host: '127.0.0.1',
        port: listening['port'] as number,
        ca,
        ALPNProtocols: ['h2', 'http/1.1'],
      });
      s.once('secureConnect', () => {
        resolve(s.alpnProtocol ?? false);
        s.end();
      });
      s.once('error', reject);
    });
    t.not(proto, 'h2', 'no HTTP/2');
    const old = await new Promise<string>((resolve) => {
      const s = connect({
        host: '127.0.0.1',
        port: listening['port'] as number,
        ca,
        maxVersion: 'TLSv1.1',
        minVersion: 'TLSv1',
      });
      s.once('secureConnect', () => {
        resolve('connected');
        s.end();
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    t.not(old, 'connected', `TLS 1.1 refused (${old})`);
  });

  t.test('the bad-review corpus never crashes it', async (t) => {
    for (const bad of badReviews()) {
      for (const path of ['/mutate-v1-pod-binding', '/mutate-v1-pod-recording']) {
        const oversized = bad.body.length >= 1024 * 1024;
        let res: Awaited<ReturnType<typeof httpsRequest>>;
        try {
          res = await httpsRequest(`${base}${path}`, {
            ca,
            method: 'POST',
            body: bad.body,
            ...(bad.contentType ? { contentType: bad.contentType } : {}),
            // Multi-megabyte bodies get a connection of their own, so a closed kept-alive socket cannot fail them.
            ...(oversized ? {} : { agent }),
          });
        } catch (err) {
          // The server may answer an oversized body and close before the client has finished writing it; the
          // client then sees EPIPE/ECONNRESET instead of the answer. That is a refusal, not a crash (checked below).
          const code = (err as NodeJS.ErrnoException).code;
          if (oversized && bad.expect === 400 && (code === 'EPIPE' || code === 'ECONNRESET')) {
            t.pass(`${bad.name} ${path}: refused before the body was read (${code})`);
            continue;
          }
          throw err;
        }
        if (bad.expect === 400) {
          t.equal(res.status, 400, `${bad.name} ${path}`);
        } else {
          t.equal(res.status, 200, `${bad.name} ${path}`);
          t.ok(
            (JSON.parse(res.body) as { response?: { uid?: string } }).response?.uid,
            `${bad.name}: answered with its uid`,
          );
        }
      }
    }
    t.equal(proc.child.exitCode, null, 'still running');
    t.equal((await httpsRequest(`${base}/healthz`, { ca })).status, 200, 'still healthy');
  });

  t.test('a rotated certificate is served without a restart', async (t) => {
    const before = await httpsRequest(`${base}/healthz`, { ca });
    t.equal(before.peerFingerprint, new X509Certificate(first.serving.certPem).fingerprint256);
    const second = await makeCerts();
    writeCerts(certDir, second);
    ca = [first.ca.certPem, second.ca.certPem];
    const want = new X509Certificate(second.serving.certPem).fingerprint256;
    await waitFor(async () => (await httpsRequest(`${base}/healthz`, { ca })).peerFingerprint === want, {
      what: 'the new serving certificate',
      timeoutMs: 20_000,
    });
    t.pass('new certificate presented');
    const metrics = await httpsRequest(`${base}/metrics`, { ca });
    t.match(metrics.body, /webhook_certificate_reloads_total\{result="ok"\} [1-9]/);
    t.equal(proc.child.exitCode, null, 'same process');
  });

  t.test('SIGTERM shuts it down cleanly', async (t) => {
    t.equal(await proc.stop('SIGTERM'), 0);
  });
});
