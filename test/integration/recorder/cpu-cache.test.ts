// The BTF program keeps each CPU's last task's mount namespace (recorder_cpu) instead of reading the task on
// every syscall. These tests move a task to another namespace, or make it issue a compat syscall, as the very
// next syscall after a long run of native ones (the cache then holds the task), and check that what follows is
// credited to the right namespace and table. Each case runs several times: a task exiting anywhere on the machine
// in between bumps the cache's epoch and would hide a stale entry, so one quiet run is enough to catch it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t, { type Test } from 'tap';
import { archOf, syscallName } from '../../../src/profiles/syscalls/index.js';
import { launchInFreshMntns } from '../../../src/recorder/launcher.js';
import { nativePaths } from '../../../src/recorder/native.js';
import { hostFacts, hostMntns, readMntns } from '../../../src/recorder/proc.js';
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
