// The benchmark's server process: the real HTTPS webhook server on static admission state. Prints its port.
import pino from 'pino';
import { createMetrics, webhookMetrics } from '../../src/metrics/index.js';
import { startWebhookServer } from '../../src/webhook/server.js';
import { staticState } from '../../src/webhook/static-state.js';
import { benchBindings, benchProfiles, NAMESPACE } from './workload.js';

const certDir = process.argv[2];
if (!certDir) throw new Error('usage: https-server.ts CERT_DIR');
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
process.stdout.write(`${server.port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
