// The BTF program keeps each CPU's last task's mount namespace (recorder_cpu) instead of reading the task on
// every syscall. These tests move a task to another namespace, or make it issue a compat syscall, as the very
// next syscall after a long run of native ones (the cache then holds the task), and check that what follows is
// credited to the right namespace and table; the last one takes a namespace's slot away while its task keeps
// its CPU (the entry also remembers that the namespace owned the slot). Each case runs several times: a task
// exiting anywhere on the machine in between bumps the cache's epoch and would hide a stale entry, so one quiet
// run is enough to catch it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import pino from 'pino';
import t, { type Test } from 'tap';
import { archOf, syscallName } from '../../../src/profiles/syscalls/index.js';
import { launchInFreshMntns } from '../../../src/recorder/launcher.js';
import { nativePaths } from '../../../src/recorder/native.js';
import { hostFacts, hostMntns, pinMntns, readMntns } from '../../../src/recorder/proc.js';
import { Recorder } from '../../../src/recorder/recorder.js';
import { recorderSkip } from './prereqs.js';
import { recordCommand as record } from './record.js';

const skip = recorderSkip();
const arch = archOf(process.arch);
const helper = nativePaths().helper;
const log = pino({ level: 'silent' });
const RUNS = 5;
const MARK = 'personality';
const x86Only = skip || (process.arch !== 'x64' && 'int $0x80 is x86');

/** The CPUs this process may run on, as `taskset -c -p` lists them ("0,1", "2-3,6"), and one by one. */
function allowedCpus(): { list: string; cpus: number[] } {
  const out = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' });
  const list = out.slice(out.lastIndexOf(':') + 1).trim();
  const cpus = list.split(',').flatMap((part) => {
    const [from = NaN, to = from] = part.split('-').map(Number);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
  return { list, cpus };
}

/** A CPU of its own for a spinning task: this process and its children keep to another until the test ends. */
function twoCpus(): string | false {
  if (skip) return skip;
  let reason = 'needs two CPUs';
  try {
    if (allowedCpus().cpus.length >= 2) return false;
  } catch (e) {
    reason = `needs taskset (util-linux): ${(e as Error).message}`;
  }
  if (process.env['CI'] === 'true') throw new Error(`cpu-cache test cannot run in CI: ${reason}`);
  return reason;
}

/** The helper, compiled once for the file. */
function nsMove(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spo-ns-move-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'ns-move');
  const source = join(import.meta.dirname, '..', '..', 'fixtures', 'recorder', 'ns-move.c');
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', out, source]);
  return out;
}
const bin = skip ? '' : nsMove();

function newRecorder(t: Test): Recorder {
  const recorder = new Recorder({
    log,
    mode: 'listed',
    facts: hostFacts(process.env),
    hostMntns: hostMntns(),
    selfMntns: readMntns('self'),
  });
  t.teardown(() => recorder.close());
  return recorder;
}

function names(set: ReadonlySet<number>): string[] {
  return [...set].map((nr) => syscallName(arch, nr) ?? `#${nr}`);
}

t.test('the marker is recorded when the task stays (so the tests below can fail)', { skip }, async (t) => {
  const recorder = newRecorder(t);
  for (let i = 0; i < RUNS; i++) {
    const seen = names((await record(recorder, [bin, 'stay'])).native);
    t.ok(seen.includes(MARK), `run ${i}: ${MARK} recorded`);
    t.ok(seen.includes('getppid'), `run ${i}: getppid recorded`);
  }
});

t.test('after unshare, the task is no longer credited to the namespace it left', { skip }, async (t) => {
  const recorder = newRecorder(t);
  for (let i = 0; i < RUNS; i++) {
    const seen = names((await record(recorder, [bin, 'unshare'])).native);
    t.ok(seen.includes('unshare'), `run ${i}: unshare recorded`);
    t.notOk(seen.includes(MARK), `run ${i}: ${MARK}, made in the new namespace, is not`);
  }
});

t.test(
  'after unshare through int $0x80 (a compat syscall), the 64-bit task is no longer credited to the namespace it left',
  { skip: x86Only },
  async (t) => {
    const recorder = newRecorder(t);
    for (let i = 0; i < RUNS; i++) {
      const recorded = await record(recorder, [bin, 'unshare80']);
      t.ok(recorded.compat.has(310), `run ${i}: the 32-bit unshare recorded, as compat`);
      t.notOk(names(recorded.native).includes(MARK), `run ${i}: ${MARK}, made in the new namespace, is not`);
    }
  },
);

t.test(
  'after unshare through int $0x80 that looks native (rcx its return address), the task is no longer credited to the namespace it left',
  { skip: x86Only },
  async (t) => {
    const recorder = newRecorder(t);
    for (let i = 0; i < RUNS; i++) {
      const recorded = await record(recorder, [bin, 'unshare80rcx']);
      // taken for the native table's 310 (process_vm_readv): the task misfiles its own syscall, nothing more
      t.ok(recorded.native.has(310) || recorded.compat.has(310), `run ${i}: the unshare recorded`);
      t.notOk(names(recorded.native).includes(MARK), `run ${i}: ${MARK}, made in the new namespace, is not`);
    }
  },
);

t.test('after setns, the task is credited to the namespace it joined', { skip }, async (t) => {
  const recorder = newRecorder(t);
  const target = await launchInFreshMntns({
    helper,
    argv: ['sleep', '60'],
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  recorder.track(target.mntns, target.pin);
  target.release();
  t.teardown(() => {
    target.child.kill('SIGKILL');
  });
  const nsFile = `/proc/${target.pid}/ns/mnt`;
  for (let i = 0; i < RUNS; i++) {
    const seen = names((await record(recorder, [bin, 'setns', nsFile])).native);
    t.ok(seen.includes('setns'), `run ${i}: setns recorded where it was made`);
    t.notOk(seen.includes(MARK), `run ${i}: ${MARK}, made after it, is not`);
  }
  target.child.kill('SIGKILL');
  await target.exited;
  const joined = names(recorder.untrack(target.mntns).native);
  t.ok(joined.includes(MARK), `${MARK} is credited to the namespace joined`);
  t.notOk(joined.includes('setns'), 'which did not make the setns');
});

t.test('int $0x80 from a 64-bit task goes to the compat table', { skip: x86Only }, async (t) => {
  const recorder = newRecorder(t);
  for (let i = 0; i < RUNS; i++) {
    const recorded = await record(recorder, [bin, 'int80']);
    // 64: getppid in the 32-bit table, semget in the 64-bit one
    t.ok(recorded.compat.has(64), `run ${i}: the 32-bit getppid, as compat`);
    t.notOk(recorded.native.has(64), `run ${i}: not as the 64-bit table's semget`);
  }
});

/** Polls `done` (a drain first) for up to `ms`. */
async function drainUntil(recorder: Recorder, done: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
    recorder.drain();
    if (done()) return true;
  }
  return false;
}

t.test(
  'a namespace whose slot was taken away is recorded again when tracked again, though its task never left the CPU',
  { skip: twoCpus() },
  async (t) => {
    const recorder = newRecorder(t);
    // attached throughout: attaching again would empty the cache and hide a stale entry
    t.teardown(recorder.arm());
    const allowed = allowedCpus();
    const [mine, spinner] = [allowed.cpus[0], allowed.cpus[allowed.cpus.length - 1]];
    execFileSync('taskset', ['-a', '-p', '-c', String(mine), String(process.pid)], { stdio: 'ignore' });
    t.teardown(() => {
      execFileSync('taskset', ['-a', '-p', '-c', allowed.list, String(process.pid)], { stdio: 'ignore' });
    });
    for (let i = 0; i < RUNS; i++) {
      const spin = await launchInFreshMntns({
        helper,
        argv: [bin, 'spin', String(spinner)],
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      t.teardown(() => {
        spin.child.kill('SIGKILL');
      });
      recorder.track(spin.mntns, spin.pin);
      spin.release();
      const seen = (nr: string) => () => names(recorder.peek(spin.mntns)?.native ?? new Set()).includes(nr);
      t.ok(await drainUntil(recorder, seen('getppid')), `run ${i}: recorded while it spins`);
      // its slot is closed and freed here while the task keeps its CPU and its cache entry there
      recorder.untrack(spin.mntns);
      recorder.track(spin.mntns, pinMntns(spin.pid));
      spin.child.kill('SIGUSR1');
      t.ok(
        await drainUntil(recorder, seen(MARK)),
        `run ${i}: ${MARK}, made after it was tracked again, recorded`,
      );
      t.ok(seen('getppid')(), `run ${i}: and its spinning too`);
      recorder.untrack(spin.mntns);
      spin.child.kill('SIGKILL');
      await spin.exited;
    }
  },
);
