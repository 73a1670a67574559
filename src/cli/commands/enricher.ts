import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parsePort } from '../../config/common.js';
import { ROLE_OPTIONS, roleSettings, roleUsage } from '../../config/role.js';
import { TokenReviewAuthorizer } from '../../daemon/metrics-auth.js';
import { buildDaemonServer } from '../../daemon/server.js';
import { Enricher } from '../../enricher/enricher.js';
import { FileFollower } from '../../enricher/file-follower.js';
import { type EnricherFilter, parseFilters } from '../../enricher/filters.js';
import { KmsgFollower } from '../../enricher/kmsg-follower.js';
import {
  chooseSource,
  DEFAULT_SOURCE_PATHS,
  type LineSource,
  SOURCE_CHOICES,
  type SourceChoice,
} from '../../enricher/line-source.js';
import { createEnricherMetrics } from '../../enricher/metrics.js';
import { ProcCriResolver } from '../../enricher/proc-cri-resolver.js';
import { RecordingStore } from '../../enricher/recording-store.js';
import { UsageError } from '../../errors.js';
import { createKubeClient } from '../../k8s/rest/index.js';
import { createMetrics } from '../../metrics/index.js';
import { chooseCriEndpoint } from '../../node/cri-endpoint.js';
import { DEFAULT_ENRICHER_SOCKET } from '../../rpc/enricher-service.js';
import { serveEnricher } from '../../rpc/enricher-server.js';
import { type Command, EXIT_OK } from '../command.js';
import { parseCommandArgs } from '../profile-inputs.js';
import { roleLogger, startRoleProfiling, untilSignal } from './serve.js';

/** How long a Sync waits for records of a container the runtime does not know yet. */
const SYNC_SETTLE_MS = 5_000;

export const enricherCommand: Command = {
  name: 'enricher',
  summary: 'run the log enricher: attribute seccomp audit records to pods, serve them over gRPC',
  usage: `Usage: seccompctl enricher [options]

One per node, with hostPID (it reads /proc/<pid>/cgroup) and read access to the audit log or /dev/kmsg.
Follows seccomp audit records (auditd type=SECCOMP, kernel type=1326) from the end of the log, survives
rotation and truncation, attributes each record to its namespace, pod and container through the CRI, and
logs one "audit" line per record with node, namespace, pod, container, executable, pid, syscallID,
syscallName, timestamp and type=seccomp. Counts them in
security_profiles_operator_seccomp_profile_audit_total. Syscalls of containers annotated
io.containers.trace-logs/<container> are kept for their recording and served on a unix socket (0600).

Options:
  --source SOURCE        auto | audit | syslog | kmsg (env ENRICHER_SOURCE, default auto: the audit log if it
                         exists, else syslog, else /dev/kmsg)
  --audit-log FILE       (default /var/log/audit/audit.log)
  --syslog FILE          (default /var/log/syslog)
  --kmsg FILE            (default /dev/kmsg)
  --filters JSON         [{priority, level: Metadata|None, matchKeys, matchValues, matchLabels}] (env
                         ENRICHER_FILTERS; @FILE reads a file). None hides a record from log and metric but
                         still records it.
  --socket FILE          gRPC socket (env ENRICHER_SOCKET, default ${DEFAULT_ENRICHER_SOCKET})
  --node-name NAME       this node (env NODE_NAME, default the host name)
  --proc DIR             host /proc (env SPO_PROC_BASE, default /proc)
  --kubeconfig FILE      for /metrics authentication (env KUBECONFIG, else in-cluster)
  --host HOST            probe and metrics address (default 0.0.0.0)
  --port PORT            (env ENRICHER_PORT, default 8086; 0 picks a free port)
  --insecure-metrics     serve /metrics without authentication (local use only)
  --poll-ms MS           how often to look for new lines (default 200; kmsg 100)
${roleUsage('enricher', 23)}

The CRI endpoint is SPO_CRI_ENDPOINT, else the first runtime socket found.
Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 on a start-up error, 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      source: { type: 'string' },
      'audit-log': { type: 'string' },
      syslog: { type: 'string' },
      kmsg: { type: 'string' },
      filters: { type: 'string' },
      socket: { type: 'string' },
      'node-name': { type: 'string' },
      proc: { type: 'string' },
      kubeconfig: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'insecure-metrics': { type: 'boolean' },
      'poll-ms': { type: 'string' },
      ...ROLE_OPTIONS,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const env = io.env;
    const choice = (values.source ?? env['ENRICHER_SOURCE'] ?? 'auto') as SourceChoice;
    if (!SOURCE_CHOICES.includes(choice))
      throw new UsageError(`--source must be one of ${SOURCE_CHOICES.join(', ')}, not "${choice}"`);
    const pollMs = values['poll-ms'] === undefined ? undefined : Number(values['poll-ms']);
    if (pollMs !== undefined && !(Number.isInteger(pollMs) && pollMs > 0 && pollMs <= 60_000))
      throw new UsageError('--poll-ms must be an integer from 1 to 60000');
    const filtersText = values.filters ?? env['ENRICHER_FILTERS'] ?? '[]';
    let filters: EnricherFilter[];
    try {
      filters = parseFilters(
        filtersText.startsWith('@') ? readFileSync(filtersText.slice(1), 'utf8') : filtersText,
      );
    } catch (err) {
      throw new UsageError(`--filters: ${(err as Error).message}`);
    }
    const nodeName = values['node-name'] ?? env['NODE_NAME'] ?? hostname();
    const socketPath = values.socket ?? env['ENRICHER_SOCKET'] ?? DEFAULT_ENRICHER_SOCKET;
    const port = parsePort(values.port ?? env['ENRICHER_PORT'], '--port', 8086);
    const settings = roleSettings('enricher', values, env);
    const log = roleLogger(io, 'enricher', settings);
    const profiling = await startRoleProfiling('enricher', settings, log);

    const paths = {
      audit: values['audit-log'] ?? DEFAULT_SOURCE_PATHS.audit,
      syslog: values.syslog ?? DEFAULT_SOURCE_PATHS.syslog,
      kmsg: values.kmsg ?? DEFAULT_SOURCE_PATHS.kmsg,
    };
    const chosen = chooseSource(choice, paths, existsSync);
    const source: LineSource =
      chosen.kind === 'kmsg'
        ? new KmsgFollower({ path: chosen.path, log, ...(pollMs ? { pollMs } : {}) })
        : new FileFollower({ kind: chosen.kind, path: chosen.path, log, ...(pollMs ? { pollMs } : {}) });

    const criEndpoint = chooseCriEndpoint(env, existsSync);
    const resolver = new ProcCriResolver({
      criEndpoint,
      procBase: values.proc ?? env['SPO_PROC_BASE'] ?? '/proc',
    });
    const { registry } = createMetrics();
    const store = new RecordingStore();
    const enricher = new Enricher({
      nodeName,
      source: chosen.kind,
      resolver,
      store,
      filters,
      log,
      metrics: createEnricherMetrics(registry),
    });

    const api = await serveEnricher({
      socketPath,
      store,
      log,
      // the daemon asks when a recorded workload ends: its last records may still be unread
      sync: async () => {
        await source.catchUp();
        return enricher.settled(SYNC_SETTLE_MS);
      },
    });
    let ready = false;
    const insecure = values['insecure-metrics'] === true;
    const server = buildDaemonServer({
      log,
      registry,
      ready: () => ready,
      authorizer: insecure ? undefined : new TokenReviewAuthorizer(await createKubeClient(values.kubeconfig)),
    });
    if (insecure) log.warn('serving /metrics without authentication (--insecure-metrics)');
    const address = await server.listen({ host: values.host ?? '0.0.0.0', port });

    let failed: unknown;
    const stopped = new Promise<void>((resolve) => {
      source.start(
        (lines) => enricher.handleLines(lines),
        (err) => {
          failed = err;
          log.error({ err, source: chosen.kind, path: chosen.path }, 'cannot read audit records');
          resolve();
        },
      );
    });
    ready = true;
    log.info(
      { address, node: nodeName, source: chosen.kind, path: chosen.path, criEndpoint },
      'enricher started',
    );

    await Promise.race([untilSignal(log), stopped]);
    ready = false;
    await source.stop();
    enricher.stop();
    await api.close();
    await server.close();
    resolver.close();
    await profiling?.close();
    if (failed !== undefined) throw failed;
    return EXIT_OK;
  },
};
