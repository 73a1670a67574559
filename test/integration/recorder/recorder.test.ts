import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pino from 'pino';
import t from 'tap';
import { archOf, syscallName } from '../../../src/profiles/syscalls/index.js';
import type { MntnsSyscalls } from '../../../src/recorder/aggregate.js';
import { launchInFreshMntns } from '../../../src/recorder/launcher.js';
import { type BpfProgram, nativePaths } from '../../../src/recorder/native.js';
import { hostFacts, hostMntns, readMntns } from '../../../src/recorder/proc.js';
import { Recorder, type RecorderMode } from '../../../src/recorder/recorder.js';
import { selfTest } from '../../../src/recorder/self-test.js';
import { bpfLinksOf, recorderSkip } from './prereqs.js';
import { recordCommand as record } from './record.js';

const skip = recorderSkip();
const arch = archOf(process.arch);
const helper = nativePaths().helper;
const log = pino({ level: 'silent' });

function names(recorded: MntnsSyscalls): string[] {
  return [...recorded.native].map((nr) => syscallName(arch, nr) ?? `#${nr}`);
}

function newRecorder(mode: RecorderMode, extra: { program?: BpfProgram; btfPath?: string } = {}): Recorder {
  const facts = {
    ...hostFacts(process.env),
    ...(extra.btfPath !== undefined ? { btfPath: extra.btfPath, btfPathExists: true } : {}),
  };
  return new Recorder({
    log,
    mode,
    facts,
    hostMntns: hostMntns(),
    selfMntns: readMntns('self'),
    ...(extra.program !== undefined ? { program: extra.program } : {}),
  });
}

// getpriority: a syscall none of the recorded commands makes, so seeing it would mean host noise got in
const BUSY = "const os = require('node:os'); for (;;) { process.ppid; os.getPriority(); }";

function busyHostLoop(t: { teardown(fn: () => void): void }): ChildProcess {
  const child = spawn(process.execPath, ['-e', BUSY], { stdio: 'ignore' });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  return child;
}

const workload = () => {
  const dir = `/tmp/spo-rec-${randomBytes(4).toString('hex')}`;
  return { dir, argv: ['sh', '-c', `mkdir ${dir}; uname`] };
};

for (const mode of ['listed', 'all'] as const) {
  t.test(
    `${mode} mode: records the command's syscalls and none of a busy host process`,
    { skip },
    async (t) => {
      const recorder = newRecorder(mode);
      t.teardown(() => recorder.close());
      busyHostLoop(t);
      const { dir, argv } = workload();
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));

      const seen = names(await record(recorder, argv));
      t.ok(seen.includes('mkdir') || seen.includes('mkdirat'), 'mkdir or mkdirat recorded');
      t.ok(seen.includes('uname'), 'uname recorded');
      t.ok(seen.includes('execve'), 'execve recorded');
      t.notOk(seen.includes('getpriority'), 'nothing from the busy host loop');
      t.equal(recorder.attached, false, 'detached once nothing is recorded');
      t.same(bpfLinksOf(process.pid), [], 'no BPF link left open');
    },
  );
}

t.test('the busy loop does make getpriority calls (so the test above can fail)', { skip }, async (t) => {
  const recorder = newRecorder('listed');
  t.teardown(() => recorder.close());
  const seen = names(
    await record(recorder, [
      process.execPath,
      '-e',
      BUSY.replace('for (;;)', 'for (let i = 0; i < 1000; i++)'),
    ]),
  );
  t.ok(seen.includes('getpriority'));
});

t.test('all mode: the host namespace never gets a map entry', { skip }, async (t) => {
  const recorder = newRecorder('all');
  t.teardown(() => recorder.close());
  busyHostLoop(t);
  const disarm = recorder.arm();
  await new Promise((r) => setTimeout(r, 200));
  recorder.drain();
  const host = hostMntns();
  t.equal(recorder.peek(host), undefined);
  // track the host: refused, it is never recorded
  t.throws(() => recorder.track(host), { code: 'ERR_CONFIG' });
  disarm();
  t.equal(recorder.attached, false);
});

t.test('plain raw tracepoint with a BTF file (the SPO_BTF_FILE path)', { skip }, async (t) => {
  const recorder = newRecorder('listed', { program: 'raw', btfPath: '/sys/kernel/btf/vmlinux' });
  t.teardown(() => recorder.close());
  const { dir, argv } = workload();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const seen = names(await record(recorder, argv));
  t.ok(seen.includes('uname'));
  t.equal(recorder.info().program, 'spo_rec_raw');
});

t.test(
  'comparison programs of the benchmark attach to the same hook and record nothing',
  { skip },
  async (t) => {
    for (const program of ['floor', 'task'] as const) {
      const recorder = newRecorder('listed', { program });
      t.teardown(() => recorder.close());
      const disarm = recorder.arm();
      t.equal(recorder.attached, true, `${program}: attached`);
      t.equal(recorder.info().program, `spo_rec_${program}`, `${program}: the program on the hook`);
      const { dir, argv } = workload();
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      t.same(names(await record(recorder, argv)), [], `${program}: a workload's syscalls are not recorded`);
      disarm();
      t.equal(recorder.attached, false, `${program}: detached`);
    }
  },
);

t.test('two recorders at once do not mix their namespaces', { skip }, async (t) => {
  const a = newRecorder('listed');
  const b = newRecorder('listed');
  t.teardown(() => {
    a.close();
    b.close();
  });
  const dir = `/tmp/spo-rec-${randomBytes(4).toString('hex')}`;
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [ra, rb] = await Promise.all([
    record(a, ['sh', '-c', 'sleep 0.5; uname']),
    record(b, ['sh', '-c', `sleep 0.5; mkdir ${dir}`]),
  ]);
  const na = names(ra);
  const nb = names(rb);
  t.ok(na.includes('uname'));
  t.notOk(na.includes('mkdir') || na.includes('mkdirat'), 'a has no mkdir');
  t.ok(nb.includes('mkdir') || nb.includes('mkdirat'));
  t.notOk(nb.includes('uname'), 'b has no uname');
});

t.test('a reused mount namespace inode does not inherit the old namespace syscalls', { skip }, async (t) => {
  const recorder = newRecorder('all');
  t.teardown(() => recorder.close());
  const disarm = recorder.arm();
  t.teardown(disarm);
  // IDA hands out the lowest free inode number, so a namespace created right after one is freed usually gets
  // its number; try a few times in case a parallel test takes it first.
  for (let attempt = 0; attempt < 20; attempt++) {
    const out = execFileSync('unshare', ['-m', 'sh', '-c', 'readlink /proc/self/ns/mnt; uname >/dev/null'], {
      encoding: 'utf8',
    });
    const old = Number(/\[(\d+)\]/.exec(out)![1]);
    const launched = await launchInFreshMntns({
      helper,
      argv: ['true'],
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (launched.mntns !== old) {
      launched.pin.release();
      launched.child.kill('SIGKILL');
      await launched.exited;
      continue;
    }
    recorder.track(launched.mntns, launched.pin);
    launched.release();
    await launched.exited;
    const seen = names(recorder.untrack(launched.mntns));
    t.ok(seen.includes('execve'), 'the new namespace is recorded');
    t.notOk(seen.includes('uname'), 'the old namespace (same inode) left nothing behind');
    return;
  }
  t.fail('no inode reuse observed in 20 attempts');
});

// Plays runc's init: getpriority (the set-up), then on a line from stdin takes runc's name and calls
// prctl(PR_GET_PDEATHSIG) (where the program restarts the namespace's bitmap), then uname (the workload).
const RUNC_INIT = [
  'import ctypes, os, sys',
  'libc = ctypes.CDLL(None, use_errno=True)',
  'os.getpriority(os.PRIO_PROCESS, 0)',
  "sys.stdout.write('ready\\n'); sys.stdout.flush()",
  'sys.stdin.readline()',
  "if sys.argv[1] == 'runc': libc.prctl(15, b'runc:[2:INIT]', 0, 0, 0)",
  'libc.prctl(2, ctypes.byref(ctypes.c_int()), 0, 0, 0)',
  'os.uname()',
].join('\n');

/** Runs `argv` in a fresh namespace, which prints a line, waits for one, then finishes; `between` runs in the pause. */
async function recordWithPause(recorder: Recorder, argv: string[], between: () => Promise<void> | void) {
  const launched = await launchInFreshMntns({ helper, argv, stdio: ['pipe', 'pipe', 'inherit'] });
  recorder.track(launched.mntns, launched.pin);
  const ready = new Promise<void>((resolve) => launched.child.stdout!.once('data', () => resolve()));
  launched.release();
  await ready;
  await between();
  launched.child.stdin!.end('go\n');
  const status = await launched.exited;
  if (status.code !== 0) throw new Error(`${argv.join(' ')} exited with ${status.code}`);
  return recorder.untrack(launched.mntns);
}

for (const comm of ['runc', 'other'] as const) {
  t.test(`a drain before the runtime start-up reset: ${comm}`, { skip }, async (t) => {
    const recorder = newRecorder('listed');
    t.teardown(() => recorder.close());
    const seen = names(
      await recordWithPause(recorder, ['python3', '-c', RUNC_INIT, comm], () => {
        // the set-up is drained (userspace holds it) before the reset happens
        recorder.drain();
        t.ok(names(recorder.peek(recorder.tracked[0]!)!).includes('getpriority'), 'set-up drained first');
      }),
    );
    t.ok(seen.includes('uname'), 'the workload after the reset is recorded');
    t.ok(seen.includes('prctl'));
    if (comm === 'runc') {
      t.notOk(seen.includes('getpriority'), 'the set-up drained before the reset is dropped');
      t.notOk(seen.includes('execve'), 'so is the exec that started it');
      t.ok(recorder.stats().resets >= 1, 'the program counted the reset');
    } else {
      t.ok(seen.includes('getpriority'), 'another command with the same prctl keeps everything');
    }
  });
}

t.test('an idle namespace loses its slot, and is recorded again when it wakes up', { skip }, async (t) => {
  const recorder = newRecorder('listed');
  t.teardown(() => recorder.close());
  const dir = `/tmp/spo-rec-${randomBytes(4).toString('hex')}`;
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const seen = names(
    await recordWithPause(recorder, ['sh', '-c', `uname; echo ready; read x; mkdir ${dir}`], () => {
      // two drains that find nothing new retire the slot (a grace period, then freed)
      for (let i = 0; i < 4; i++) recorder.drain();
    }),
  );
  t.ok(seen.includes('uname'), 'what it did before is kept');
  t.ok(seen.includes('mkdir') || seen.includes('mkdirat'), 'what it did after waking up is recorded');
});

t.test('many namespaces at once, slots and hash map, do not mix', { skip }, async (t) => {
  const recorder = newRecorder('listed');
  t.teardown(() => recorder.close());
  const dirs: string[] = [];
  t.teardown(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const runs = Array.from({ length: 24 }, (_, i) => {
    if (i % 2 === 0) return record(recorder, ['sh', '-c', 'sleep 0.3; uname']);
    const dir = `/tmp/spo-rec-${randomBytes(4).toString('hex')}`;
    dirs.push(dir);
    return record(recorder, ['sh', '-c', `sleep 0.3; mkdir ${dir}`]);
  });
  const results = (await Promise.all(runs)).map(names);
  for (const [i, seen] of results.entries()) {
    const mkdir = seen.includes('mkdir') || seen.includes('mkdirat');
    if (i % 2 === 0) t.ok(seen.includes('uname') && !mkdir, `${i}: uname and no mkdir`);
    else t.ok(mkdir && !seen.includes('uname'), `${i}: mkdir and no uname`);
  }
});

t.test('self-test: load, attach, see a child exec in a fresh namespace, detach', { skip }, async (t) => {
  const recorder = newRecorder('all');
  t.teardown(() => recorder.close());
  await selfTest(recorder, helper, arch);
  t.equal(recorder.attached, false);
  recorder.close();
  recorder.close();
  t.throws(() => recorder.drain(), { code: 'ERR_RECORDER_CLOSED' });
});
