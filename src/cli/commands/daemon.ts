import { hostname } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseLogLevel, parsePort } from '../../config/common.js';
import { EventRecorder } from '../../daemon/event-recorder.js';
import { createDaemonMetrics } from '../../daemon/metrics.js';
import { TokenReviewAuthorizer } from '../../daemon/metrics-auth.js';
import { NodeStatusWriter } from '../../daemon/node-status-writer.js';
import { RecordingController } from '../../daemon/recording-controller.js';
import { eventEmitter } from '../../daemon/recording-events.js';
import { createRecordingMetrics } from '../../daemon/recording-metrics.js';
import { seccompRoot } from '../../daemon/profile-path.js';
import { ProfileSync } from '../../daemon/profile-sync.js';
import { seccompSupported } from '../../daemon/seccomp-support.js';
import { buildDaemonServer } from '../../daemon/server.js';
import { UsageError } from '../../errors.js';
import { listCustom } from '../../k8s/admission-cache.js';
import { loadKubeConfig } from '../../k8s/client.js';
import { makeInformer } from '../../k8s/informer.js';
import { resourcePath, SECCOMP_PROFILES } from '../../k8s/resources.js';
import { createMetrics } from '../../metrics/index.js';
import { resolveBuiltinBase } from '../../profiles/builtin-bases.js';
import { RecorderClient } from '../../rpc/recorder-client.js';
import type { SeccompProfile } from '../../profiles/types.js';
import { type Command, EXIT_OK } from '../command.js';
import { parseCommandArgs } from '../profile-inputs.js';
import { roleLogger, untilSignal } from './serve.js';

export const daemonCommand: Command = {
  name: 'daemon',
  summary: 'run the node daemon: write every SeccompProfile to this node, report per-node status',
  usage: `Usage: seccompctl daemon [options]

One per node. Watches SeccompProfiles, resolves base profiles, writes
<kubelet-dir>/seccomp/operator/<namespace>/<name>.json atomically (only on change), removes files of deleted
profiles, reports a SecurityProfileNodeStatus per profile and node, and records Events on the profile.
Serves /healthz, /readyz and /metrics (TokenReview + SubjectAccessReview protected) over HTTP.

Options:
  --kubeconfig FILE      kubeconfig (env KUBECONFIG, else in-cluster)
  --node-name NAME       this node (env NODE_NAME, default the host name)
  --kubelet-dir DIR      kubelet root (env KUBELET_DIR, default /var/lib/kubelet)
  --host HOST            probe and metrics address (default 0.0.0.0)
  --port PORT            (env DAEMON_PORT, default 8085; 0 picks a free port)
  --insecure-metrics     serve /metrics without authentication (local use only)
  --recorder-socket PATH run the recording controller against \`seccompctl recorder\` on this socket
                         (env SPO_RECORDER_SOCKET; unset: no recording)
  --log-level LEVEL      (env LOG_LEVEL, default info)

Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 on a start-up error, 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      kubeconfig: { type: 'string' },
      'node-name': { type: 'string' },
      'kubelet-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'insecure-metrics': { type: 'boolean' },
      'recorder-socket': { type: 'string' },
      'log-level': { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const env = io.env;
    const nodeName = values['node-name'] ?? env['NODE_NAME'] ?? hostname();
    const kubeletDir = values['kubelet-dir'] ?? env['KUBELET_DIR'] ?? '/var/lib/kubelet';
    const port = parsePort(values.port ?? env['DAEMON_PORT'], '--port', 8085);
    const log = roleLogger(io, 'daemon', parseLogLevel(values['log-level'] ?? env['LOG_LEVEL']));
    const kc = loadKubeConfig(values.kubeconfig);
    const { registry } = createMetrics();
    const supported = await seccompSupported();
    if (!supported)
      log.error({ node: nodeName }, 'seccomp is not supported on this node; no profile will be written');

    type Profile = SeccompProfile & KubernetesObject;
    const profiles = makeInformer<Profile>(
      kc,
      resourcePath(SECCOMP_PROFILES),
      listCustom<Profile>(kc, SECCOMP_PROFILES),
      {
        log,
        what: 'seccompprofiles',
      },
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
      status: new NodeStatusWriter(kc, nodeName),
      events: new EventRecorder(kc, 'seccomp-daemon', nodeName, log),
      metrics: createDaemonMetrics(registry),
      log,
      seccompSupported: supported,
    });
    const recorderSocket = values['recorder-socket'] ?? env['SPO_RECORDER_SOCKET'];
    const recorderClient = recorderSocket ? new RecorderClient(recorderSocket) : undefined;
    const recording =
      recorderClient !== undefined
        ? new RecordingController({
            kc,
            nodeName,
            recorder: recorderClient,
            events: eventEmitter(kc, 'profilerecorder', nodeName, log),
            metrics: createRecordingMetrics(registry),
            log,
          })
        : undefined;
    let ready = false;
    const server = buildDaemonServer({
      log,
      registry,
      ready: () => ready && profiles.synced() && (recording?.synced() ?? true),
      authorizer: values['insecure-metrics'] ? undefined : new TokenReviewAuthorizer(kc),
    });
    if (values['insecure-metrics']) log.warn('serving /metrics without authentication (--insecure-metrics)');
    const address = await server.listen({ host: values.host ?? '0.0.0.0', port });
    log.info({ address, node: nodeName, root: seccompRoot(kubeletDir) }, 'daemon listening');

    // Events before the first list would see an empty store and remove files that are still wanted.
    await profiles.start();
    profiles.onChange((p) => sync.enqueue(p.metadata.namespace ?? 'default', p.metadata.name));
    await sync.resync();
    if (recording !== undefined) {
      await recording.start();
      log.info({ socket: recorderSocket }, 'recording controller started');
    }
    ready = true;
    log.info({ profiles: profiles.cache.list().length }, 'daemon synced');

    await untilSignal(log);
    ready = false;
    await recording?.stop();
    recorderClient?.close();
    await profiles.stop();
    await sync.idle();
    await server.close();
    return EXIT_OK;
  },
};
