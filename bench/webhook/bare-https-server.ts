// The HTTPS bench's floor server: node:https with nothing of ours, doing only what any webhook must for a
// review: read the body, parse it as JSON, and answer an allowed AdmissionReview for its uid. Run by https.ts
// under the same pinning, IPC and report as https-server.ts, so its tail at the same rate is the floor of a
// Node HTTPS webhook on this machine.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { PerformanceObserver } from 'node:perf_hooks';
import type { GcEntry, ServerReport } from './timeline.js';

const certDir = process.argv[2];
if (!certDir || !process.send) throw new Error('usage: forked with IPC, bare-https-server.ts CERT_DIR');

const origin = performance.timeOrigin;
let report: ServerReport = { requests: [], gc: [] };
const server = createServer(
  {
    cert: readFileSync(`${certDir}/tls.crt`),
    key: readFileSync(`${certDir}/tls.key`),
    minVersion: 'TLSv1.2',
  },
  (req, res) => {
    const t0 = performance.now();
    const id = Number(req.headers['x-bench-id'] ?? -1);
    res.on('finish', () => void report.requests.push([origin + t0, performance.now() - t0, id]));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let uid = '';
      if (chunks.length > 0) {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request?: { uid?: string } };
        uid = review.request?.uid ?? '';
      }
      const body = JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid, allowed: true },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  },
);
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    report.gc.push([origin + e.startTime, e.duration, (e as GcEntry).detail?.kind ?? 0]);
}).observe({ entryTypes: ['gc'] });
process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'reset') report = { requests: [], gc: [] };
  if (msg.cmd === 'report') process.send?.({ report });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
