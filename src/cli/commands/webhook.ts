import { ROLE_OPTIONS, roleUsage, WATCH_NAMESPACE_OPTIONS, watchNamespaceUsage } from '../../config/role.js';
import { webhookConfig } from '../../config/webhook.js';
import { AdmissionCache } from '../../k8s/admission-cache.js';
import { createKubeClient } from '../../k8s/rest/index.js';
import { createMetrics, webhookMetrics } from '../../metrics/index.js';
import { startWebhookServer } from '../../webhook/server.js';
import { type Command, EXIT_OK } from '../command.js';
import { parseCommandArgs } from '../profile-inputs.js';
import { roleLogger, startRoleProfiling, untilSignal } from './serve.js';

export const webhookCommand: Command = {
  name: 'webhook',
  summary: 'serve the binding and recording admission webhooks over HTTPS',
  usage: `Usage: seccompctl webhook [options]

Serves /mutate-v1-pod-binding, /mutate-v1-pod-recording, /healthz, /readyz (200 once the caches of
ProfileBindings, ProfileRecordings and SeccompProfiles are synced) and /metrics over HTTPS (TLS 1.2+).
The serving pair is DIR/tls.crt and DIR/tls.key, reloaded when the files change. Runs until SIGTERM.

Options:
  --host HOST                 listen address (env WEBHOOK_HOST, default 0.0.0.0)
  --port PORT                 listen port, 0 for any (env WEBHOOK_PORT, default 9443)
  --cert-dir DIR              serving certificate directory (env WEBHOOK_CERT_DIR,
                              default /tmp/k8s-webhook-server/serving-certs)
  --kubeconfig FILE           kubeconfig (env KUBECONFIG, else in-cluster)
  --operator-namespace NS     where the log profile lives (env OPERATOR_NAMESPACE,
                              default security-profiles-operator)
  --cert-poll-seconds N       how often to re-read the certificate besides file events (default 10)
${watchNamespaceUsage(28)}
${roleUsage('webhook', 28)}

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 cannot start (configuration, kubeconfig, serving certificate), 2 usage error.`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      host: { type: 'string' },
      port: { type: 'string' },
      'cert-dir': { type: 'string' },
      kubeconfig: { type: 'string' },
      'operator-namespace': { type: 'string' },
      'cert-poll-seconds': { type: 'string' },
      ...WATCH_NAMESPACE_OPTIONS,
      ...ROLE_OPTIONS,
    });
    const config = webhookConfig(values, io.env);
    const log = roleLogger(io, 'webhook', config);
    const profiling = await startRoleProfiling('webhook', config, log);
    if (config.watchNamespace !== undefined)
      log.info({ watchNamespace: config.watchNamespace }, 'single-namespace mode');
    // The small REST client, not client-node: the webhook only lists and watches, and client-node's generated
    // code alone costs tens of MB of RSS per replica.
    const kube = await createKubeClient(config.kubeconfig);
    const metrics = createMetrics();
    const cache = new AdmissionCache(kube, log, config.watchNamespace);
    const stopped = untilSignal(log);
    const server = await startWebhookServer({
      host: config.host,
      port: config.port,
      certs: { certFile: config.certFile, keyFile: config.keyFile },
      state: cache,
      log,
      metrics: webhookMetrics(metrics),
      registry: metrics.registry,
      operatorNamespace: config.operatorNamespace,
      watchNamespace: config.watchNamespace,
      certPollMs: config.certPollMs,
    });
    // Listening before the caches sync: /healthz answers at once, /readyz only when admission can decide.
    void cache.start().then(() => log.info('caches synced'));
    await stopped;
    await server.close();
    await cache.stop();
    await profiling?.close();
    return EXIT_OK;
  },
};
