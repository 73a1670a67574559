import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pino from 'pino';
import t from 'tap';
import { archOf, syscallName } from '../../../src/profiles/syscalls/index.js';
import type { MntnsSyscalls } from '../../../src/recorder/aggregate.js';
import { launchInFreshMntns } from '../../../src/recorder/launcher.js';
import { nativePaths } from '../../../src/recorder/native.js';
import { hostFacts, hostMntns, readMntns } from '../../../src/recorder/proc.js';
import { Recorder, type RecorderMode } from '../../../src/recorder/recorder.js';
import { selfTest } from '../../../src/recorder/self-test.js';
import { bpfLinksOf, recorderSkip } from './prereqs.js';

const skip = recorderSkip();
const arch = archOf(process.arch);
const helper = nativePaths().helper;
const log = pino({ level: 'silent' });

function names(recorded: MntnsSyscalls): string[] {
  return [...recorded.native].map((nr) => syscallName(arch, nr) ?? `#${nr}`);
}

function newRecorder(mode: RecorderMode, extra: { program?: 'raw'; btfPath?: string } = {}): Recorder {
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

async function record(recorder: Recorder, argv: string[]): Promise<MntnsSyscalls> {
  const launched = await launchInFreshMntns({ helper, argv, stdio: ['ignore', 'ignore', 'inherit'] });
  recorder.track(launched.mntns, launched.pin);
  launched.release();
  const status = await launched.exited;
  if (status.code !== 0) throw new Error(`${argv.join(' ')} exited with ${status.code}`);
  return recorder.untrack(launched.mntns);
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

t.test('self-test: load, attach, see a child exec in a fresh namespace, detach', { skip }, async (t) => {
  const recorder = newRecorder('all');
  t.teardown(() => recorder.close());
  await selfTest(recorder, helper, arch);
  t.equal(recorder.attached, false);
  recorder.close();
  recorder.close();
  t.throws(() => recorder.drain(), { code: 'ERR_RECORDER_CLOSED' });
});
