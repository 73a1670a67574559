// The benchmark's server process: the real HTTPS webhook server on static admission state, the same metrics
// registry and a real (silent) pino logger. Besides serving, it keeps for the parent (over IPC) when each request
// arrived and how long the server held it (Node's 'request' event to the answer's 'finish'), and its GC pauses,
// so the parent can tell a slow answer that the server caused from one that the client caused.
import { PerformanceObserver } from 'node:perf_hooks';
import pino from 'pino';
import { createMetrics, webhookMetrics } from '../../src/metrics/index.js';
import { startWebhookServer } from '../../src/webhook/server.js';
import { staticState } from '../../src/webhook/static-state.js';
import type { GcEntry, ServerReport } from './timeline.js';
import { benchBindings, benchProfiles, NAMESPACE } from './workload.js';

const certDir = process.argv[2];
if (!certDir || !process.send) throw new Error('usage: forked with IPC, https-server.ts CERT_DIR');
const metrics = createMetrics({ defaults: false });
const server = await startWebhookServer({
  host: '127.0.0.1',
  port: 0,
  certs: { certFile: `${certDir}/tls.crt`, keyFile: `${certDir}/tls.key` },
  state: staticState({ bindings: benchBindings(), profiles: { [NAMESPACE]: benchProfiles } }),
  log: pino({ level: 'silent' }),
  metrics: webhookMetrics(metrics),
  registry: metrics.registry,
  operatorNamespace: 'security-profiles-operator',
});

const origin = performance.timeOrigin;
let report: ServerReport = { requests: [], gc: [] };
server.app.server.on('request', (req, res) => {
  const t0 = performance.now();
  const id = Number(req.headers['x-bench-id'] ?? -1);
  res.on('finish', () => void report.requests.push([origin + t0, performance.now() - t0, id]));
});
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as GcEntry).detail?.kind ?? 0;
    report.gc.push([origin + e.startTime, e.duration, kind]);
  }
}).observe({ entryTypes: ['gc'] });

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'reset') report = { requests: [], gc: [] };
  if (msg.cmd === 'report') process.send?.({ report });
});
process.send({ port: server.port });
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
