import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROLE_OPTIONS, roleSettings, roleUsage } from '../../config/role.js';
import { UsageError } from '../../errors.js';
import { attributeMntns } from '../../node/attribute.js';
import { CgroupWatcher, readCgroupProcs } from '../../node/cgroup-watch.js';
import { ContainerTracker } from '../../node/container-tracker.js';
import { chooseCriEndpoint, endpointPath } from '../../node/cri-endpoint.js';
import { CriRuntime } from '../../node/cri.js';
import { ContainerResolver, resolverEnv } from '../../node/resolve.js';
import { readSelinuxEnforce, selinuxWarning } from '../../node/selinux.js';
import { loadSnapshot, saveSnapshot } from '../../node/tracker-state.js';
import { archOf } from '../../profiles/syscalls/index.js';
import { preparePinDir } from '../../recorder/bpffs.js';
import { nativePaths } from '../../recorder/native.js';
import { DEFAULT_PIN_DIR, NO_PIN_DIR, parsePinDir } from '../../recorder/pin-dir.js';
import { hostFacts, hostMntns, pinMntns, readMntns } from '../../recorder/proc.js';
import { Recorder } from '../../recorder/recorder.js';
import { selfTest } from '../../recorder/self-test.js';
import { DEFAULT_RECORDER_SOCKET } from '../../rpc/recorder-api.js';
import { serveRecorder } from '../../rpc/recorder-server.js';
import { type Command, EXIT_OK } from '../command.js';
import { parseCommandArgs } from '../profile-inputs.js';
import { roleLogger, startRoleProfiling, untilSignal } from './serve.js';

const DEFAULT_STATE_DIR = '/var/lib/seccompctl/recorder';
const DEFAULT_DRAIN_MS = 100;

export const recorderCommand: Command = {
  name: 'recorder',
  summary: 'run the node recorder: eBPF syscall recording of containers behind a gRPC unix socket',
  usage: `Usage: seccompctl recorder [options]

One per node, privileged (CAP_BPF, CAP_PERFMON, CAP_SYS_RESOURCE; hostPID). Loads the eBPF recorder, proves it
works (self-test), resolves containers to mount namespaces (CRI, cgroup filesystem, /proc) and serves the
Recorder gRPC API (src/rpc/recorder.proto) on a unix socket (mode 0600) for the daemon. What it has recorded
is saved under the state directory after every drain, and the eBPF maps and link are pinned in a bpf
filesystem while recording, so the program goes on recording while this process is down (a crash, an
upgrade) and a restart continues where it stopped, without losing what happened in between.

Options:
  --socket PATH          (env SPO_RECORDER_SOCKET, default ${DEFAULT_RECORDER_SOCKET})
  --state-dir DIR        (env SPO_RECORDER_STATE_DIR, default ${DEFAULT_STATE_DIR})
  --bpf-pin-dir DIR      bpffs directory of the recorder's own for the pinned maps and link (env
                         SPO_BPF_PIN_DIR, default ${DEFAULT_PIN_DIR}; ${NO_PIN_DIR}: no pinning, so what
                         containers do while the recorder is down is lost). The node mounts the bpffs.
  --drain-ms MS          how often the kernel map is drained and saved (env SPO_RECORDER_DRAIN_MS, default
                         ${DEFAULT_DRAIN_MS}); new containers are found from their cgroups, not on this timer
${roleUsage('recorder', 23)}

Environment: SPO_CRI_ENDPOINT, SPO_CGROUP_BASE, SPO_PROC_BASE, SPO_CRI_CGROUP_FIELDS, SPO_BTF_FILE.

Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 on a start-up error, 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      socket: { type: 'string' },
      'state-dir': { type: 'string' },
      'drain-ms': { type: 'string' },
      'bpf-pin-dir': { type: 'string' },
      ...ROLE_OPTIONS,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const env = io.env;
    const settings = roleSettings('recorder', values, env);
    const log = roleLogger(io, 'recorder', settings);
    const profiling = await startRoleProfiling('recorder', settings, log);
    const socket = values.socket ?? env['SPO_RECORDER_SOCKET'] ?? DEFAULT_RECORDER_SOCKET;
    const statePath = join(
      values['state-dir'] ?? env['SPO_RECORDER_STATE_DIR'] ?? DEFAULT_STATE_DIR,
      'state.json',
    );
    const drainText = values['drain-ms'] ?? env['SPO_RECORDER_DRAIN_MS'];
    const drainMs = drainText === undefined ? DEFAULT_DRAIN_MS : Number(drainText);
    if (!Number.isInteger(drainMs) || drainMs < 10 || drainMs > 60_000)
      throw new UsageError(`--drain-ms must be an integer from 10 to 60000, not "${drainText}"`);
    const pinDir = parsePinDir(
      values['bpf-pin-dir'] ?? env['SPO_BPF_PIN_DIR'],
      values['bpf-pin-dir'] !== undefined ? '--bpf-pin-dir' : 'SPO_BPF_PIN_DIR',
    );
    const paths = resolverEnv(env);
    const arch = archOf(process.arch);

    const warning = selinuxWarning(await readSelinuxEnforce());
    if (warning !== undefined) log.warn(warning);

    let cri: CriRuntime | undefined;
    try {
      const endpoint = chooseCriEndpoint(env, (p) => existsSync(p));
      cri = new CriRuntime(endpoint);
      const v = await cri.version();
      log.info({ endpoint, runtime: v.runtimeName, version: v.runtimeVersion }, 'CRI endpoint');
      if (!existsSync(endpointPath(endpoint))) log.warn({ endpoint }, 'CRI socket missing');
    } catch (err) {
      log.warn({ err }, 'no CRI: containers are resolved through the cgroup filesystem and /proc only');
    }
    const resolver = new ContainerResolver({ log, ...(cri !== undefined ? { cri } : {}), ...paths });

    if (pinDir !== undefined) await preparePinDir(pinDir);
    const host = hostMntns(paths.procBase);
    const self = readMntns('self');
    const recorder = new Recorder({
      log,
      mode: 'all',
      facts: hostFacts(env),
      hostMntns: host,
      selfMntns: self,
      ...(pinDir !== undefined ? { pinDir } : {}),
    });
    const tracker = new ContainerTracker({
      recorder,
      resolve: (id) => resolver.resolve(id),
      pin: (pid) => pinMntns(pid, paths.procBase),
      attribute: (wanted) => attributeMntns(wanted, paths.procBase),
      arch,
      log,
      save: (snapshot) => saveSnapshot(statePath, snapshot),
      cgroupProcs: readCgroupProcs,
      notContainer: new Set([host, self]),
    });
    // loads (and with pins, adopts and drains) before anything else makes a namespace
    recorder.open();
    try {
      const saved = await loadSnapshot(statePath);
      if (saved !== undefined) await tracker.restore(saved);
    } catch (err) {
      log.error({ err, statePath }, 'cannot read the saved recorder state; starting empty');
    }
    // After the restore: an exited container's syscalls wait in the inherited maps under its namespace's number,
    // which the self-test's fresh namespace may be handed.
    await selfTest(recorder, nativePaths(env).helper, arch, log.child({ hostMntns: host }));
    // an adopted link was held through the restore and the self-test; now only the restored arms hold it
    recorder.endResume();
    const timer = setInterval(() => {
      tracker.tick().catch((err: unknown) => log.error({ err }, 'drain failed'));
    }, drainMs);

    const watcher = new CgroupWatcher({
      cgroupBase: paths.cgroupBase,
      log,
      onContainer: (id, dir) => tracker.containerCgroup(id, dir),
    });
    watcher.start();

    const server = await serveRecorder(socket, tracker, log);
    log.info({ socket, statePath, pinDir: pinDir ?? NO_PIN_DIR }, 'recorder listening');

    await untilSignal(log);
    clearInterval(timer);
    watcher.close();
    await server.close();
    await tracker.tick();
    recorder.close();
    cri?.close();
    await profiling?.close();
    return EXIT_OK;
  },
};
