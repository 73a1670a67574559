// The floor of the apiserver bench: the smallest webhook that can answer a pod review, in a process of its own
// as ours runs. node:https with a certificate from a CA the same x509 code issues, TLS 1.2 minimum as ours,
// keep-alive; it reads the review and answers allowed, no patch. What a pod pays for a call to this is what
// the apiserver's webhook path costs by itself. On /patch it answers with the patch our binding webhook gives
// a bound pod (one container's seccompProfile), built once: what a call costs with a patch the apiserver must
// apply, and nothing of ours.
// Run (the bench does): node --import tsx bench/webhook/trivial-webhook.ts CERT_DIR  → prints the port
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

const dir = process.argv[2];
if (!dir) throw new Error('usage: trivial-webhook.ts CERT_DIR');
const PATCH = Buffer.from(
  JSON.stringify([
    {
      op: 'add',
      path: '/spec/containers/0/securityContext',
      value: { seccompProfile: { type: 'Localhost', localhostProfile: 'operator/bench/p1.json' } },
    },
  ]),
).toString('base64');
const server = createServer(
  {
    cert: readFileSync(`${dir}/tls.crt`),
    key: readFileSync(`${dir}/tls.key`),
    minVersion: 'TLSv1.2',
    keepAlive: true,
  },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        apiVersion: string;
        request: { uid: string };
      };
      const body = JSON.stringify({
        apiVersion: review.apiVersion,
        kind: 'AdmissionReview',
        response:
          req.url?.startsWith('/patch') === true // the apiserver adds ?timeout=5s
            ? { uid: review.request.uid, allowed: true, patchType: 'JSONPatch', patch: PATCH }
            : { uid: review.request.uid, allowed: true },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  },
);
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
