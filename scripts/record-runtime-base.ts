// Records what the container runtime (runc, or crun with --runtime crun) itself calls inside a container after it
// installs the seccomp filter, up to and including the execve of the container's process, and writes its entry
// into src/profiles/builtin-bases.generated.ts (the other runtimes' entries are kept).
// Run through scripts/record-runtime-base [--runtime runc|crun] (sources .dev/env). Needs root (/dev/kmsg) and the
// dev cluster up; crun goes through the RuntimeClass "crun" that `scripts/dev up` makes when crun is installed.
//
// Method: the kernel's seccomp audit records. A container started under a profile whose default action is
// SCMP_ACT_LOG has every syscall it makes after the filter is installed logged as `audit: type=1326` on
// /dev/kmsg, with the caller's thread-group id and comm. That is exactly the window a base profile must cover,
// which the eBPF recorder cannot isolate (it resets at runc init's first PR_GET_PDEATHSIG, long before the
// filter goes in, so it would also record mount, pivot_root and the rest of the set-up the filter never sees).
// Runtime and workload are told apart by comm: runc init is "runc:[2:INIT]" and crun's container init "crun"
// until the execve succeeds (recordSource() in src/recorder/runtime-base.ts), the workload (the static pause
// binary, test/images/pause.c) is "pause" after it, and all have the same pid, the container's, so other
// containers logging at the same time are ignored. No subtraction is needed. A record of that pid under any other
// comm stops the recording: the runtime is not the one we think.
// The kernel prints audit records through printk_ratelimit (10 per 5 s here), so one start shows only the first
// few syscalls. Hence a fixpoint: each round allows what runc was seen calling so far and logs the rest. A round
// that shows pause's own records and no runc record means runc calls nothing else: runc's calls come
// milliseconds before pause's, and within a 5 s window the limiter only ever goes from printing to dropping, so
// had runc's records been dropped pause's would have been too. ("callbacks suppressed" lines cannot be used:
// the kernel prints them for the previous window, and pause alone logs more than 10 records.) Two clean rounds
// in a row are required, against a window that turns over in those milliseconds. Rounds start after 6 s.
// runc and crun install the filter at different points depending on no_new_privs (before setuid/capset/closing
// fds when it is off, just before execve when it is on), so the rounds run for each variant below and the result
// is their union. Go's runtime threads (runc) can add calls by timing; extra passes per variant catch those.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CoreV1Api,
  KubeConfig,
  NodeV1Api,
  type V1Pod,
  type V1SecurityContext,
} from '@kubernetes/client-node';
import { parseSeccompAudit } from '../src/recorder/audit.js';
import { KmsgReader } from '../src/recorder/kmsg.js';
import { RECORDED_BASES, type RecordedBase } from '../src/profiles/builtin-bases.generated.js';
import { syscallName } from '../src/profiles/syscalls/index.js';
import {
  BASE_RUNTIMES,
  type BaseRuntime,
  baseName as runtimeBaseName,
  recordSource,
  reportedVersion,
} from '../src/recorder/runtime-base.js';
import { renderRecordedBases } from '../src/recorder/runtime-base-file.js';

const repo = join(import.meta.dirname, '..');
const kubeletDir = must('KUBELET_DIR');
const image = must('TEST_IMAGE_PAUSE');
const namespace = 'spo-record-runtime-base';
// Not under seccomp/operator/: a daemon running meanwhile would prune a file no SeccompProfile owns.
const profileDir = join(kubeletDir, 'seccomp', namespace);
const WORKLOAD_COMM = 'pause';
const MAX_ROUNDS = 20;
const CLEAN_PASSES = 2;

const VARIANTS: readonly { name: string; securityContext: V1SecurityContext }[] = [
  { name: 'default', securityContext: {} },
  { name: 'no-new-privs', securityContext: { allowPrivilegeEscalation: false } },
  { name: 'non-root', securityContext: { runAsUser: 65534, runAsGroup: 65534 } },
];

function must(key: string): string {
  const v = process.env[key];
  if (v === undefined || v === '')
    throw new Error(`${key} is not set: run through scripts/record-runtime-base`);
  return v;
}

function runtimeArg(argv: readonly string[]): BaseRuntime {
  const i = argv.indexOf('--runtime');
  const v = i < 0 ? 'runc' : argv[i + 1];
  const known = BASE_RUNTIMES.find((r) => r === v);
  if (known === undefined) throw new Error(`--runtime must be one of ${BASE_RUNTIMES.join(', ')}, got ${v}`);
  return known;
}

const runtime = runtimeArg(process.argv.slice(2));
// runc is containerd's default handler here; any other runtime through the RuntimeClass of its name.
const runtimeClassName = runtime === 'runc' ? undefined : runtime;

const kc = new KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The host pid of a container: the process whose cgroup path names its id. */
function pidOfContainer(id: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(id)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** A registered audit daemon takes the records the kernel would otherwise print to /dev/kmsg. */
function auditDaemonPid(): number {
  const status = execFileSync('auditctl', ['-s'], { encoding: 'utf8' });
  return Number(/^pid (\d+)/m.exec(status)?.[1] ?? 0);
}

interface Round {
  readonly runtime: Set<string>;
  readonly workload: Set<string>;
  /** A "callbacks suppressed" line: some records before or during the round were dropped (display only) */
  readonly suppressed: boolean;
  readonly stolen: boolean;
}

async function round(
  allowed: ReadonlySet<string>,
  securityContext: V1SecurityContext,
  n: number,
): Promise<Round> {
  const profile = {
    defaultAction: 'SCMP_ACT_LOG',
    ...(allowed.size > 0 ? { syscalls: [{ action: 'SCMP_ACT_ALLOW', names: [...allowed].sort() }] } : {}),
  };
  writeFileSync(join(profileDir, 'record.json'), JSON.stringify(profile));
  await sleep(6000);
  await poll(
    'no audit daemon (records would go to it, not to /dev/kmsg)',
    async () => auditDaemonPid() === 0 || undefined,
    600_000,
  );
  const kmsg = new KmsgReader();
  kmsg.skipExisting();
  const name = `record-${n}`;
  const body: V1Pod = {
    metadata: { name, namespace },
    spec: {
      terminationGracePeriodSeconds: 1,
      ...(runtimeClassName !== undefined ? { runtimeClassName } : {}),
      containers: [
        {
          name: 'c',
          image,
          securityContext: {
            ...securityContext,
            seccompProfile: { type: 'Localhost', localhostProfile: `${namespace}/record.json` },
          },
        },
      ],
    },
  };
  await core.createNamespacedPod({ namespace, body });
  const containerId = await poll(`pod ${name} running`, async () => {
    const p = await core.readNamespacedPod({ name, namespace });
    const s = p.status?.containerStatuses?.[0];
    const waiting = s?.state?.waiting?.reason;
    if (waiting !== undefined && /Error|BackOff/.test(waiting))
      throw new Error(`${name}: ${waiting}: ${s?.state?.waiting?.message ?? ''}`);
    return s?.state?.running !== undefined ? s.containerID?.replace(/^\w+:\/\//, '') : undefined;
  });
  const pid = pidOfContainer(containerId);
  if (pid === undefined) throw new Error(`no process found for container ${containerId}`);
  await sleep(1000);
  const lines = kmsg.read();
  kmsg.close();
  // an audit daemon that registered meanwhile may have taken some records: the round proves nothing
  const stolen = auditDaemonPid() !== 0;
  await core.deleteNamespacedPod({ name, namespace });
  await poll(`pod ${name} gone`, () =>
    core.readNamespacedPod({ name, namespace }).then(
      () => undefined,
      (e: { code?: number }) => (e.code === 404 ? true : undefined),
    ),
  );
  const out: Round = {
    runtime: new Set(),
    workload: new Set(),
    suppressed: lines.some((l) => l.includes('callbacks suppressed')),
    stolen,
  };
  for (const line of lines) {
    const rec = parseSeccompAudit(line);
    if (rec === undefined || rec.pid !== pid || rec.auditArch !== 'c000003e') continue;
    const sys = syscallName('x86_64', rec.syscall) ?? `#${rec.syscall}`;
    const source = recordSource(runtime, rec.comm, WORKLOAD_COMM);
    if (source === 'other')
      throw new Error(
        `a record of the container's pid is neither ${runtime}'s nor ${WORKLOAD_COMM}'s: ${line}`,
      );
    (source === 'runtime' ? out.runtime : out.workload).add(sys);
  }
  return out;
}

async function main(): Promise<void> {
  if (process.arch !== 'x64') throw new Error('only x86_64 is recorded here');
  const versionText = execFileSync(runtime, ['--version'], { encoding: 'utf8' });
  const baseName = runtimeBaseName(runtime, versionText);
  const version = reportedVersion(runtime, versionText);
  if (baseName === undefined || version === undefined)
    throw new Error(`cannot read a ${runtime} version from: ${versionText}`);
  if (runtimeClassName !== undefined)
    await kc
      .makeApiClient(NodeV1Api)
      .readRuntimeClass({ name: runtimeClassName })
      .catch((e: { code?: number }) => {
        throw new Error(
          e.code === 404
            ? `no RuntimeClass ${runtimeClassName}: run scripts/dev up with ${runtime} installed`
            : `reading RuntimeClass ${runtimeClassName}: ${String(e)}`,
        );
      });
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch((e: { code?: number }) => {
    if (e.code !== 409) throw e;
  });
  mkdirSync(profileDir, { recursive: true });
  const allowed = new Set<string>();
  const workload = new Set<string>();
  let n = 0;
  try {
    for (const variant of VARIANTS) {
      let clean = 0;
      for (let r = 0; clean < CLEAN_PASSES; r++) {
        if (r >= MAX_ROUNDS)
          throw new Error(`variant ${variant.name}: no fixpoint after ${MAX_ROUNDS} rounds`);
        const got = await round(allowed, variant.securityContext, n++);
        for (const s of got.workload) workload.add(s);
        const fresh = [...got.runtime].filter((s) => !allowed.has(s));
        for (const s of got.runtime) allowed.add(s);
        const isClean = got.runtime.size === 0 && got.workload.size > 0 && !got.stolen;
        clean = isClean ? clean + 1 : 0;
        console.error(
          `${variant.name} round ${r}: ${runtime} +[${fresh.join(' ')}] pause [${[...got.workload].sort().join(' ')}]` +
            `${got.suppressed ? ' (rate-limited)' : ''}${isClean ? ' clean' : ''}`,
        );
      }
    }
  } finally {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    rmSync(profileDir, { recursive: true, force: true });
  }
  const names = [...allowed].sort();
  const unnamed = names.filter((s) => s.startsWith('#'));
  if (unnamed.length > 0) throw new Error(`syscall numbers without a name: ${unnamed.join(', ')}`);
  const recorded: RecordedBase = {
    runtime,
    version,
    kernel: release(),
    recordedOn: new Date().toISOString().slice(0, 10),
    variants: VARIANTS.map((v) => v.name),
    workloadSeen: [...workload].sort(),
    syscalls: names,
  };
  const file = join(repo, 'src/profiles/builtin-bases.generated.ts');
  writeFileSync(file, renderRecordedBases({ ...RECORDED_BASES, [baseName]: recorded }));
  execFileSync(join(repo, 'node_modules/.bin/biome'), ['format', '--write', file], { stdio: 'ignore' });
  console.log(`${baseName}: ${names.length} syscalls: ${names.join(' ')}`);
  console.log(`seen from pause (possibly partial): ${[...workload].sort().join(' ')}`);
  console.log(`wrote ${file}`);
}

await main();
