import { managerConfig } from '../../config/manager.js';
import { ROLE_OPTIONS, roleUsage, WATCH_NAMESPACE_OPTIONS, watchNamespaceUsage } from '../../config/role.js';
import { describeError, loadKubeConfig } from '../../k8s/client.js';
import { createKubeClient } from '../../k8s/rest/index.js';
import { WebhookCertificates } from '../../manager/certificates.js';
import { NamespaceController } from '../../manager/controller.js';
import { ensureLogTraceProfile } from '../../manager/log-trace-profile.js';
import { ProfileController } from '../../manager/profile-controller.js';
import { RecordingConditionsController } from '../../manager/recording-conditions-controller.js';
import { RecordingMergeController } from '../../manager/recording-merge-controller.js';
import { SpodController } from '../../manager/spod-controller.js';
import { acquireLeadership, type Leadership } from '../../manager/leader.js';
import { SYSTEM_NAMESPACES } from '../../manager/opt-in.js';
import { buildProbeApp } from '../../manager/probes.js';
import { createMetrics, managerMetrics } from '../../metrics/index.js';
import { type Command, EXIT_INVALID, EXIT_OK } from '../command.js';
import { parseCommandArgs } from '../profile-inputs.js';
import { roleLogger, startRoleProfiling, untilSignal } from './serve.js';

export const managerCommand: Command = {
  name: 'manager',
  summary: 'run the operator manager: webhook certificates, namespace opt-in, binding usage',
  usage: `Usage: seccompctl manager [options]

Leader-elected (Lease) controller. Issues the webhook CA and serving certificate (Secrets webhook-ca and
webhook-server-cert) and, from the same CA, the daemons' metrics certificate (Secret metrics-server-cert,
for Service metrics), patches the caBundle into the MutatingWebhookConfiguration and renews well before
expiry; labels namespaces that hold ProfileBindings / ProfileRecordings with spo.x-k8s.io/enable-binding /
spo.x-k8s.io/enable-recording, and keeps the recording webhook's matchConditions to the pods the
ProfileRecordings select; keeps ProfileBinding status.activeWorkloads and the active-workload-lock
finalizer in line with the pods that use them. Serves /healthz, /readyz and /metrics over HTTP.
Operator configuration: keeps SecurityProfilesOperatorDaemon spod (created with defaults when missing),
renders DaemonSet spod and the webhook options from it, deploys a ServiceMonitor when the Prometheus
Operator is installed (env SPOD_IMAGE: image of a DaemonSet created from the manifests; env
SPOD_MANAGE_DAEMONSET=false: only report on DaemonSet spod, never write it).

Options:
  --kubeconfig FILE                 kubeconfig (env KUBECONFIG, else in-cluster)
  --operator-namespace NS           (env OPERATOR_NAMESPACE, default security-profiles-operator)
  --host HOST --port PORT           probe and metrics address (default 0.0.0.0:8080, env MANAGER_PORT)
  --leader-elect true|false         (default true)
  --lease-name NAME                 (default seccomp-profiles-operator-manager)
  --webhook-configuration NAME      (default spo-mutating-webhook-configuration, with -NS appended in
                                    single-namespace mode)
  --service-name NAME               webhook Service the certificate names (default webhook-service)
  --cert-host HOST                  another DNS name or IP for the certificate (repeatable)
  --cert-dir DIR                    also write tls.crt/tls.key/ca.crt here (a webhook run locally)
  --cert-check-seconds N            how often certificates are checked (default 300)
  --ca-valid-days N                 (default 3650)
  --serving-valid-days N            (default 90)
  --serving-renew-before-days N     (default 30, at most a third of the validity)
${watchNamespaceUsage(34)}
                                    (no namespace is labelled; nodes are not watched)
${roleUsage('manager', 34)}

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 cannot start, or leadership lost (another replica takes over), 2 usage error.`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      kubeconfig: { type: 'string' },
      'operator-namespace': { type: 'string' },
      ...WATCH_NAMESPACE_OPTIONS,
      ...ROLE_OPTIONS,
      host: { type: 'string' },
      port: { type: 'string' },
      'leader-elect': { type: 'string' },
      'lease-name': { type: 'string' },
      'webhook-configuration': { type: 'string' },
      'service-name': { type: 'string' },
      'cert-host': { type: 'string', multiple: true },
      'cert-dir': { type: 'string' },
      'cert-check-seconds': { type: 'string' },
      'ca-valid-days': { type: 'string' },
      'serving-valid-days': { type: 'string' },
      'serving-renew-before-days': { type: 'string' },
    });
    const config = managerConfig(values, io.env);
    const log = roleLogger(io, 'manager', config);
    const profiling = await startRoleProfiling('manager', config, log);
    if (config.watchNamespace !== undefined)
      log.info({ watchNamespace: config.watchNamespace }, 'single-namespace mode');
    const kc = loadKubeConfig(config.kubeconfig);
    // Informers list and watch through the small REST client (one connection pool); kc makes the typed calls.
    const kube = await createKubeClient(config.kubeconfig);
    const metrics = createMetrics();
    const mm = managerMetrics(metrics);
    const stopped = untilSignal(log);
    const controller = new NamespaceController({
      kc,
      kube,
      log,
      metrics: mm,
      excludedNamespaces: new Set([...SYSTEM_NAMESPACES, config.operatorNamespace]),
      watchNamespace: config.watchNamespace,
    });
    const profiles = new ProfileController({
      kc,
      kube,
      log,
      pods: controller.pods,
      kubeletDir: io.env['KUBELET_DIR'] ?? '/var/lib/kubelet',
      watchNamespace: config.watchNamespace,
    });
    const merges = new RecordingMergeController(kc, kube, log, config.watchNamespace);
    const recordingConditions = new RecordingConditionsController({
      kc,
      log,
      metrics: mm,
      webhookConfiguration: config.webhookConfiguration,
      recordings: controller.recordings,
    });
    const spod = new SpodController({
      kube,
      kc,
      log,
      metrics: mm,
      namespace: config.operatorNamespace,
      webhookConfiguration: config.webhookConfiguration,
      watchNamespace: config.watchNamespace,
      image: io.env['SPOD_IMAGE'] || undefined,
      manageDaemonSet: io.env['SPOD_MANAGE_DAEMONSET'] !== 'false',
    });
    const certificates = new WebhookCertificates({
      kc,
      log,
      metrics: mm,
      namespace: config.operatorNamespace,
      webhookConfiguration: config.webhookConfiguration,
      certDir: config.certDir,
      policy: {
        caValidDays: config.caValidDays,
        servingValidDays: config.servingValidDays,
        servingRenewBeforeDays: config.servingRenewBeforeDays,
        hosts: config.certHosts,
      },
    });
    let certsReady = false;
    const probes = buildProbeApp({
      log,
      registry: metrics.registry,
      ready: () => certsReady && controller.synced(),
    });
    await probes.listen({ host: config.host, port: config.port });
    const address = probes.server.address();
    log.info(
      { port: typeof address === 'object' && address ? address.port : config.port },
      'manager probes listening',
    );

    const standby = new AbortController();
    void stopped.then(() => standby.abort());
    const leading = config.leaderElect
      ? acquireLeadership({
          kc,
          namespace: config.operatorNamespace,
          name: config.leaseName,
          identity: config.identity,
          log,
          signal: standby.signal,
        })
      : Promise.resolve(undefined);
    const first = await Promise.race([
      leading.then(
        (l) => ({ l }),
        () => undefined,
      ),
      stopped.then(() => undefined),
    ]);
    if (first === undefined) {
      await probes.close();
      await profiling?.close();
      return EXIT_OK;
    }
    const leadership: Leadership | undefined = first.l;

    let timer: NodeJS.Timeout | undefined;
    const checkCertificates = async () => {
      try {
        await certificates.reconcile();
        certsReady = true;
        mm.reconciles.inc({ controller: 'certificates', result: 'ok' });
      } catch (err) {
        mm.reconciles.inc({ controller: 'certificates', result: 'error' });
        mm.apiErrors.inc({ code: String(describeError(err).code ?? 'network') });
        log.error(describeError(err), 'certificate reconcile failed');
      }
      timer = setTimeout(() => void checkCertificates(), certsReady ? config.certCheckMs : 2_000);
    };
    await checkCertificates();
    await ensureLogTraceProfile(kc, config.operatorNamespace, log).catch((err: unknown) =>
      log.error(
        describeError(err),
        'cannot create the log trace profile; logs recordings will not be traced',
      ),
    );
    // The profile controller reads the pods informer the namespace controller starts.
    // Each start is remembered so shutdown can wait for it: stopping an informer whose first list is still in
    // flight would let that list start a watch after the stop, and the process would never exit.
    const starting = Promise.all([
      controller.start().then(() => {
        recordingConditions.start();
        return profiles.start();
      }),
      merges.start(),
      spod.start(),
    ]).catch((err: unknown) => log.error(describeError(err), 'controllers failed to start'));

    const outcome = await Promise.race([
      stopped.then(() => 'stopped' as const),
      (leadership?.lost ?? new Promise<never>(() => {})).catch((err: Error) => {
        log.error({ err }, 'leadership lost; exiting so a new leader takes over');
        return 'lost' as const;
      }),
    ]);
    clearTimeout(timer);
    // Bounded: with the apiserver unreachable the first list never comes, and shutdown must not wait for it.
    await Promise.race([starting, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    await spod.stop();
    recordingConditions.stop();
    await merges.stop();
    await profiles.stop();
    await controller.stop();
    await probes.close();
    await profiling?.close();
    if (outcome === 'stopped') await leadership?.release();
    return outcome === 'lost' ? EXIT_INVALID : EXIT_OK;
  },
};
