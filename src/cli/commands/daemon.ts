import { hostname } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parsePort } from '../../config/common.js';
import {
  ROLE_OPTIONS,
  roleSettings,
  roleUsage,
  WATCH_NAMESPACE_OPTIONS,
  watchNamespace,
  watchNamespaceUsage,
} from '../../config/role.js';
import { cachedProfile } from '../../daemon/cached-profile.js';
import { EventRecorder } from '../../daemon/event-recorder.js';
import { lazyEnricherClient, lazyRecorderClient } from '../../daemon/lazy-rpc.js';
import { createDaemonMetrics } from '../../daemon/metrics.js';
import { TokenReviewAuthorizer } from '../../daemon/metrics-auth.js';
import { NodeStatusWriter } from '../../daemon/node-status-writer.js';
import { RecordingController } from '../../daemon/recording-controller.js';
import { eventEmitter } from '../../daemon/recording-events.js';
import { createRecordingMetrics } from '../../daemon/recording-metrics.js';
import { seccompRoot } from '../../daemon/profile-path.js';
import { ProfileSync } from '../../daemon/profile-sync.js';
import { seccompSupported } from '../../daemon/seccomp-support.js';
import { startDaemonServer } from '../../daemon/server.js';
import { UsageError } from '../../errors.js';
import { createKubeClient, makeRestInformer } from '../../k8s/rest/index.js';
import { SECCOMP_PROFILES } from '../../k8s/resources.js';
import { createMetrics } from '../../metrics/index.js';
import { resolveBuiltinBase } from '../../profiles/builtin-bases.js';
import type { SeccompProfile } from '../../profiles/types.js';
import { type Command, EXIT_OK } from '../command.js';
import { parseCommandArgs } from '../parse-args.js';
import { roleLogger, startRoleProfiling, untilSignal } from './serve.js';

export const daemonCommand: Command = {
  name: 'daemon',
  summary: 'run the node daemon: write every SeccompProfile to this node, report per-node status',
  usage: `Usage: seccompctl daemon [options]

One per node. Watches SeccompProfiles, resolves base profiles, writes
<kubelet-dir>/seccomp/operator/<namespace>/<name>.json atomically (only on change), removes files of deleted
profiles, reports a SecurityProfileNodeStatus per profile and node, and records Events on the profile.
Serves /healthz, /readyz, and the metrics at /metrics-spod (alias /metrics, TokenReview +
SubjectAccessReview protected): over HTTPS with --tls-cert-dir, else over plain HTTP.

Options:
  --kubeconfig FILE      kubeconfig (env KUBECONFIG, else in-cluster)
  --node-name NAME       this node (env NODE_NAME, default the host name)
  --kubelet-dir DIR      kubelet root (env KUBELET_DIR, default /var/lib/kubelet)
  --host HOST            probe and metrics address (default 0.0.0.0)
  --port PORT            (env DAEMON_PORT, default 8085; 0 picks a free port)
  --tls-cert-dir DIR     serve HTTPS (TLS 1.2+) with DIR/tls.crt and DIR/tls.key, reloaded when they change
                         (the mounted Secret metrics-server-cert; env SPO_METRICS_CERT_DIR)
  --insecure-metrics     serve plain HTTP, metrics without authentication (local use only; wins over
                         --tls-cert-dir)
  --recorder-socket PATH run the recording controller against \`seccompctl recorder\` on this socket
                         (env SPO_RECORDER_SOCKET; unset: bpf recordings are not recorded here)
  --enricher-socket PATH record \`recorder: logs\` recordings from \`seccompctl enricher\` on this socket
                         (env SPO_ENRICHER_SOCKET; unset: logs recordings are not recorded here)
${watchNamespaceUsage(23)}
${roleUsage('daemon', 23)}

Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 on a start-up error, 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      kubeconfig: { type: 'string' },
      'node-name': { type: 'string' },
      'kubelet-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'insecure-metrics': { type: 'boolean' },
      'tls-cert-dir': { type: 'string' },
      'recorder-socket': { type: 'string' },
      'enricher-socket': { type: 'string' },
      ...WATCH_NAMESPACE_OPTIONS,
      ...ROLE_OPTIONS,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const env = io.env;
    const nodeName = values['node-name'] ?? env['NODE_NAME'] ?? hostname();
    const kubeletDir = values['kubelet-dir'] ?? env['KUBELET_DIR'] ?? '/var/lib/kubelet';
    const port = parsePort(values.port ?? env['DAEMON_PORT'], '--port', 8085);
    const settings = roleSettings('daemon', values, env);
    const watched = watchNamespace(values['watch-namespace'], env);
    const log = roleLogger(io, 'daemon', settings);
    const profiling = await startRoleProfiling('daemon', settings, log);
    if (watched !== undefined) log.info({ watchNamespace: watched }, 'single-namespace mode');
    const kube = await createKubeClient(values.kubeconfig);
    const { registry } = createMetrics();
    const supported = await seccompSupported();
    if (!supported)
      log.error({ node: nodeName }, 'seccomp is not supported on this node; no profile will be written');

    type Profile = SeccompProfile & KubernetesObject;
    const profiles = makeRestInformer<Profile>(
      kube,
      { ...SECCOMP_PROFILES, ...(watched !== undefined ? { namespace: watched } : {}) },
      { log, what: 'seccompprofiles', transform: cachedProfile },
    );
    const warnedBases = new Set<string>();
    const sync = new ProfileSync({
      root: seccompRoot(kubeletDir),
      nodeName,
      store: {
        get: (ns, name) => profiles.cache.get(name, ns),
        list: () => profiles.cache.list(),
      },
      builtinBase: (base) => {
        const resolved = resolveBuiltinBase(base);
        if (resolved?.warning !== undefined && !warnedBases.has(base)) {
          warnedBases.add(base);
          log.warn({ base, using: resolved.name }, resolved.warning);
        }
        return resolved?.spec;
      },
      status: new NodeStatusWriter(kube, nodeName),
      events: new EventRecorder(kube, 'seccomp-daemon', nodeName, log),
      metrics: createDaemonMetrics(registry),
      log,
      seccompSupported: supported,
      namespace: watched,
    });
    const recorderSocket = values['recorder-socket'] ?? env['SPO_RECORDER_SOCKET'];
    const recorderClient = recorderSocket ? lazyRecorderClient(recorderSocket) : undefined;
    // A pod's first arm races its containers' start: the client must be ready before the first one arrives.
    recorderClient?.preload();
    const enricherSocket = values['enricher-socket'] ?? env['SPO_ENRICHER_SOCKET'];
    const enricherClient = enricherSocket ? lazyEnricherClient(enricherSocket) : undefined;
    const recording =
      recorderClient !== undefined || enricherClient !== undefined
        ? new RecordingController({
            kube,
            nodeName,
            recorder: recorderClient,
            enricher: enricherClient,
            events: eventEmitter(kube, 'profilerecorder', nodeName, log),
            metrics: createRecordingMetrics(registry),
            log,
            namespace: watched,
          })
        : undefined;
    let ready = false;
    const insecure = values['insecure-metrics'] === true;
    const certDir = values['tls-cert-dir'] ?? (env['SPO_METRICS_CERT_DIR'] || undefined);
    const server = await startDaemonServer({
      log,
      registry,
      ready: () => ready && profiles.synced() && (recording?.synced() ?? true),
      authorizer: insecure ? undefined : new TokenReviewAuthorizer(kube),
      host: values.host ?? '0.0.0.0',
      port,
      certDir: insecure ? undefined : certDir,
    });
    if (insecure) {
      log.warn(
        { ignoredCertDir: certDir },
        'serving metrics over plain HTTP without authentication (--insecure-metrics)',
      );
    } else if (certDir === undefined) {
      log.warn('serving metrics over plain HTTP: bearer tokens travel in clear; pass --tls-cert-dir');
    }
    const { address } = server;
    log.info({ address, node: nodeName, root: seccompRoot(kubeletDir) }, 'daemon listening');

    // Events before the first list would see an empty store and remove files that are still wanted.
    await profiles.start();
    profiles.onChange((p) => sync.enqueue(p.metadata.namespace ?? 'default', p.metadata.name));
    await sync.resync();
    if (recording !== undefined) {
      await recording.start();
      log.info({ socket: recorderSocket, enricherSocket }, 'recording controller started');
    }
    ready = true;
    log.info({ profiles: profiles.cache.list().length }, 'daemon synced');

    await untilSignal(log);
    ready = false;
    await recording?.stop();
    recorderClient?.close();
    enricherClient?.close();
    await profiles.stop();
    await sync.idle();
    await server.close();
    await profiling?.close();
    return EXIT_OK;
  },
};
