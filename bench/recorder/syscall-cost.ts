/**
 * Cost of the recorder per syscall, as ratios within one run (never a timed test).
 *
 *   node --import tsx bench/recorder/syscall-cost.ts [--rounds 9] [--iterations 2000000] [--baseline DIR]
 *     [--workload getpid|pingpong]
 *
 * A getpid loop runs under each condition in turn, the order rotating every round so drift (other load, CPU
 * frequency) spreads over all of them: no program (run directly, and launched like a recorded command); the empty
 * program on the same hook (the floor); a program that only reads the task's mount namespace (what any program
 * keyed by mount namespace must do first); the recorder with an unrecorded host process; the recorder with the loop
 * in a recorded mount namespace. Needs root and a built addon. --baseline DIR adds the two recorder conditions again
 * with another build of the addon (DIR/spo_recorder.node, e.g. a copy of native/build/Release made before a
 * change), so a change is compared with what it replaces within one run rather than across runs. --workload pingpong
 * runs two processes on one CPU passing a byte over pipes instead (every other syscall on the CPU is the other
 * process's: the per-CPU cache's worst case); --iterations then counts round trips (four syscalls each).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { launchInFreshMntns } from '../../src/recorder/launcher.js';
import { type NativeAddon, nativePaths } from '../../src/recorder/native.js';
import { hostFacts, hostMntns, readMntns } from '../../src/recorder/proc.js';
import { Recorder } from '../../src/recorder/recorder.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    iterations: { type: 'string' },
    baseline: { type: 'string' },
    workload: { type: 'string' },
  },
});
const rounds = Number(values.rounds ?? 9);
const workload = values.workload ?? 'getpid';
// a syscall the workload surely makes, to check that the recorded run was recorded (x86_64 numbers)
const WORKLOADS: Record<string, { source: string; iterations: number; makes: number }> = {
  getpid: { source: 'getpid-loop', iterations: 2_000_000, makes: 39 },
  pingpong: { source: 'pingpong', iterations: 200_000, makes: 0 },
};
const picked = WORKLOADS[workload];
if (picked === undefined) throw new Error(`--workload must be one of ${Object.keys(WORKLOADS).join(', ')}`);
const chosen = picked;
const iterations = Number(values.iterations ?? chosen.iterations);

const dir = join(import.meta.dirname, '.build');
const loop = join(dir, chosen.source);
const loopSource = join(import.meta.dirname, `${chosen.source}.c`);
if (!existsSync(loop) || statSync(loop).mtimeMs < statSync(loopSource).mtimeMs) {
  mkdirSync(dir, { recursive: true });
  execFileSync('cc', ['-O2', '-o', loop, loopSource]);
}

const log = pino({ level: 'silent' });
const facts = hostFacts(process.env);
const host = hostMntns();
const helper = nativePaths().helper;

function hostLoop(): number {
  return Number(execFileSync(loop, [String(iterations)], { encoding: 'utf8' }));
}

/** The loop started the way a recorded one is (spo-exec, fresh namespace, async wait), to tell launch effects apart. */
async function launchedLoop(recorder?: Recorder): Promise<number> {
  const launched = await launchInFreshMntns({
    helper,
    argv: [loop, String(iterations)],
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  launched.child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  if (recorder === undefined) {
    launched.pin.release();
    launched.release();
    await launched.exited;
    return Number(out);
  }
  recorder.track(launched.mntns, launched.pin);
  launched.release();
  await launched.exited;
  const seen = recorder.untrack(launched.mntns);
  if (!seen.native.has(chosen.makes) && process.arch === 'x64')
    throw new Error(
      `the recorded loop was not recorded: ${JSON.stringify({ mntns: launched.mntns, nsId: seen.nsId, native: [...seen.native], out })}`,
    );
  return Number(out);
}

// The kernel's own accounting (run_time_ns / run_cnt of the program) is far less exposed to scheduler noise than
// the loop: it times just the program. It adds a clock read per run, the same for every program.
const STATS = '/proc/sys/kernel/bpf_stats_enabled';
// The stats' clock reads cost more than the program in a VM, so the loop is timed in a separate pass without them.
const statsWere = readFileSync(STATS, 'utf8').trim();
process.on('exit', () => writeFileSync(STATS, statsWere));

function progRunStats(progId: number | undefined): { ns: number; runs: number } {
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    let text: string;
    try {
      text = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    if (text.includes('link_type:') || !new RegExp(`^prog_id:\\s*${progId}$`, 'm').test(text)) continue;
    const ns = Number(/^run_time_ns:\s*(\d+)$/m.exec(text)?.[1] ?? 0);
    const runs = Number(/^run_cnt:\s*(\d+)$/m.exec(text)?.[1] ?? 0);
    return { ns, runs };
  }
  return { ns: 0, runs: 0 };
}

const floor = new Recorder({
  log,
  mode: 'all',
  facts,
  hostMntns: host,
  selfMntns: readMntns('self'),
  program: 'floor',
});
const taskRead = new Recorder({
  log,
  mode: 'all',
  facts,
  hostMntns: host,
  selfMntns: readMntns('self'),
  program: 'task',
});
const recorder = new Recorder({ log, mode: 'all', facts, hostMntns: host, selfMntns: readMntns('self') });
const baselineAddon =
  values.baseline === undefined
    ? undefined
    : (createRequire(import.meta.url)(join(values.baseline, 'spo_recorder.node')) as NativeAddon);
const baseline =
  baselineAddon === undefined
    ? undefined
    : new Recorder({
        log,
        mode: 'all',
        facts,
        hostMntns: host,
        selfMntns: readMntns('self'),
        native: new baselineAddon.Recorder(),
      });
floor.open();
taskRead.open();
recorder.open();
baseline?.open();

type Condition =
  | 'none'
  | 'none, launched'
  | 'floor'
  | 'task read'
  | 'recorder, host process'
  | 'recorder, recorded mntns'
  | 'baseline, host process'
  | 'baseline, recorded mntns';

async function armedHostLoop(armed: Recorder): Promise<number> {
  const disarm = armed.arm();
  try {
    return hostLoop();
  } finally {
    disarm();
  }
}

const conditions: Partial<Record<Condition, () => Promise<number>>> = {
  none: async () => hostLoop(),
  'none, launched': async () => launchedLoop(),
  floor: async () => {
    const disarm = floor.arm();
    try {
      return hostLoop();
    } finally {
      disarm();
    }
  },
  'task read': async () => armedHostLoop(taskRead),
  'recorder, host process': async () => armedHostLoop(recorder),
  'recorder, recorded mntns': async () => launchedLoop(recorder),
};
if (baseline !== undefined) {
  conditions['baseline, host process'] = async () => armedHostLoop(baseline);
  conditions['baseline, recorded mntns'] = async () => launchedLoop(baseline);
}

const programOf: Partial<Record<Condition, Recorder>> = {
  floor,
  'task read': taskRead,
  'recorder, host process': recorder,
  'recorder, recorded mntns': recorder,
  'baseline, host process': baseline,
  'baseline, recorded mntns': baseline,
};
const names = Object.keys(conditions) as Condition[];
const samples = new Map<Condition, number[]>(names.map((n) => [n, []]));
const progTime = new Map<Condition, { ns: number; runs: number }>(names.map((n) => [n, { ns: 0, runs: 0 }]));
// spo_rec_exit (sched_process_exit, every task exit on the machine) beside the BTF program
const exitTime = new Map<Condition, { ns: number; runs: number }>(names.map((n) => [n, { ns: 0, runs: 0 }]));
for (const pass of ['loop', 'program'] as const) {
  writeFileSync(STATS, pass === 'program' ? '1' : '0');
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!;
      const prog = programOf[name];
      if (pass === 'loop') {
        samples.get(name)!.push(await conditions[name]!());
        continue;
      }
      if (prog === undefined) continue;
      const before = progRunStats(prog.info().progId);
      const exitBefore = progRunStats(prog.info().exitProgId);
      await conditions[name]!();
      for (const [stats, was, into] of [
        [progRunStats(prog.info().progId), before, progTime],
        [progRunStats(prog.info().exitProgId), exitBefore, exitTime],
      ] as const) {
        const total = into.get(name)!;
        total.ns += stats.ns - was.ns;
        total.runs += stats.runs - was.runs;
      }
    }
  }
}
writeFileSync(STATS, statsWere);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const none = median(samples.get('none')!);
const floorCost = median(samples.get('floor')!) - none;
console.log(
  `${workload} loop, ${iterations} x ${rounds} rounds, median ns/syscall (kernel ${facts.kernelRelease})`,
);
for (const name of names) {
  const m = median(samples.get(name)!);
  const added = m - none;
  const vsFloor =
    name === 'none'
      ? ''
      : `  added ${added.toFixed(1)} ns  (${(added - floorCost).toFixed(1)} ns over floor, ${(added / floorCost).toFixed(2)}x floor)`;
  console.log(`  ${name.padEnd(26)} ${m.toFixed(1)} ns${vsFloor}`);
}
const perRun = (name: Condition) => {
  const { ns, runs } = progTime.get(name)!;
  return runs > 0 ? ns / runs : Number.NaN;
};
const floorRun = perRun('floor');
console.log('program run time (kernel.bpf_stats_enabled), ns per syscall:');
for (const name of names.filter((n) => programOf[n] !== undefined)) {
  const ns = perRun(name);
  console.log(
    `  ${name.padEnd(26)} ${ns.toFixed(1)} ns  (${(ns - floorRun).toFixed(1)} ns over floor, ${(ns / floorRun).toFixed(2)}x floor)`,
  );
}
for (const name of names.filter((n) => exitTime.get(n)!.runs > 0)) {
  const exits = exitTime.get(name)!;
  const calls = progTime.get(name)!.runs;
  console.log(
    `  ${name.padEnd(26)} + sched_process_exit: ${(exits.ns / exits.runs).toFixed(1)} ns an exit, ${exits.runs} exits (machine-wide) in ${calls} syscalls`,
  );
}
floor.close();
taskRead.close();
recorder.close();
baseline?.close();
