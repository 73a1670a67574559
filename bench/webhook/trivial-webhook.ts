// The floor of the apiserver bench: the smallest webhook that can answer a pod review, in a process of its own
// as ours runs. node:https with a certificate from a CA the same x509 code issues, TLS 1.2 minimum as ours,
// keep-alive; it reads the review and answers allowed, no patch. What a pod pays for a call to this is what
// the apiserver's webhook path costs by itself. On /patch it answers with the patch our binding webhook gives
// a bound pod (one container's seccompProfile), built once: what a call costs with a patch the apiserver must
// apply, and nothing of ours. On /patch-recorded, the patch ours gives the bench's pod bound and recorded (the
// recording-id label and the two containers' trace annotations besides).
// Run (the bench does): node --import tsx bench/webhook/trivial-webhook.ts CERT_DIR  → prints the port
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

const dir = process.argv[2];
if (!dir) throw new Error('usage: trivial-webhook.ts CERT_DIR');
const BIND = {
  op: 'add',
  path: '/spec/containers/0/securityContext',
  value: { seccompProfile: { type: 'Localhost', localhostProfile: 'operator/bench/p1.json' } },
};
const RECORD = [
  { op: 'add', path: '/metadata/labels/spo.x-k8s.io~1recording-id', value: 'r1' },
  {
    op: 'add',
    path: '/metadata/annotations',
    value: { 'io.containers.trace-bpf/nginx': 'r1', 'io.containers.trace-bpf/side': 'r1' },
  },
];
const base64 = (ops: unknown[]) => Buffer.from(JSON.stringify(ops)).toString('base64');
const PATCH = base64([BIND]);
const PATCH_RECORDED = base64([...RECORD, BIND]);
/** The apiserver appends ?timeout=5s to the configured path. */
function answer(url: string, uid: string) {
  const path = url.split('?')[0];
  if (path === '/patch') return { uid, allowed: true, patchType: 'JSONPatch', patch: PATCH };
  if (path === '/patch-recorded')
    return { uid, allowed: true, patchType: 'JSONPatch', patch: PATCH_RECORDED };
  return { uid, allowed: true };
}

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
        response: answer(req.url ?? '/', review.request.uid),
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
