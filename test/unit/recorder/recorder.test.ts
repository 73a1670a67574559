import pino from 'pino';
import t from 'tap';
import type { HostFacts } from '../../../src/recorder/diagnose.js';
import { Recorder, type RecorderMode } from '../../../src/recorder/recorder.js';
import { FakeNativeRecorder, nativeError } from './fake-native.js';

const facts: HostFacts = { uid: 0, kernelRelease: '6.18.0', kernelBtf: true };
const HOST = 4026531840;

function setup(mode: RecorderMode) {
  const native = new FakeNativeRecorder();
  const recorder = new Recorder({
    log: pino({ level: 'silent' }),
    mode,
    facts,
    hostMntns: HOST,
    selfMntns: 4026532000,
    native,
  });
  return { native, recorder };
}

function pin(mntns: number) {
  const state = { released: 0 };
  return { state, pin: { mntns, release: () => void state.released++ } };
}

t.test('attaches only while something is recorded', async (t) => {
  const { native, recorder } = setup('listed');
  recorder.open();
  t.equal(native.isAttached, false, 'loaded, not attached');
  t.same(native.opened, { listedOnly: true, hostMntns: HOST, maxMntns: 8192, program: 'btf' });
  recorder.track(1);
  recorder.track(2);
  t.equal(native.isAttached, true);
  recorder.untrack(1);
  t.equal(native.isAttached, true, 'still recording 2');
  recorder.untrack(2);
  t.equal(native.isAttached, false, 'nothing left to record');
});

t.test('listed mode: include on track, forget before the final drain, release the pin', async (t) => {
  const { native, recorder } = setup('listed');
  const p = pin(7);
  recorder.track(7, p.pin);
  t.ok(native.filter.has(7));
  native.record(7, 11, [0, 1, 59]);
  recorder.drain();
  t.same([...recorder.peek(7)!.native], [0, 1, 59]);
  native.record(7, 11, [60, 231]);
  const done = recorder.untrack(7);
  t.same(
    [...done.native].sort((a, b) => a - b),
    [0, 1, 59, 60, 231],
    'drains are unioned',
  );
  t.notOk(native.filter.has(7));
  t.ok(
    native.calls.lastIndexOf('forget') < native.calls.lastIndexOf('drain'),
    'forget before the last drain',
  );
  t.equal(p.state.released, 1);
});

t.test('all mode: what a namespace did before it was tracked is kept', async (t) => {
  const { native, recorder } = setup('all');
  t.same(native.calls.includes('exclude'), false);
  const disarm = recorder.arm();
  t.ok(native.filter.has(4026532000), 'our own namespace is excluded');
  native.record(9, 3, [59]); // runtime start-up, before anyone knew the namespace
  recorder.drain();
  native.record(9, 3, [0]);
  recorder.track(9);
  const done = recorder.untrack(9);
  t.same(
    [...done.native].sort((a, b) => a - b),
    [0, 59],
  );
  t.equal(native.isAttached, true, 'still armed');
  disarm();
  disarm();
  t.equal(native.isAttached, false);
});

t.test('all mode: a reused inode number does not mix two namespaces', async (t) => {
  const { native, recorder } = setup('all');
  recorder.arm();
  native.record(9, 3, [63]); // old namespace, gone
  recorder.drain();
  native.record(9, 8, [59]); // new namespace with the same inode number
  recorder.track(9);
  t.same([...recorder.untrack(9).native], [59]);
});

t.test('the host namespace is never recorded', async (t) => {
  const { recorder } = setup('all');
  const p = pin(HOST);
  t.throws(() => recorder.track(HOST, p.pin), { code: 'ERR_CONFIG' });
  t.equal(p.state.released, 1, 'pin released');
});

t.test('native errors become AppErrors with the fix, keeping the cause', async (t) => {
  const { native, recorder } = setup('listed');
  const cause = nativeError('EPERM', 1, 'bpf_object__load');
  native.failNext = { method: 'open', error: cause };
  const err = t.throws(() => recorder.open(), { code: 'ERR_BPF_LOAD' }) as unknown as Error;
  t.match(err.message, /CAP_BPF and CAP_PERFMON/);
  t.equal(err.cause, cause);

  native.failNext = { method: 'attach', error: nativeError('EBUSY', 16, 'bpf_program__attach') };
  t.throws(() => recorder.track(5), { code: 'ERR_BPF_ATTACH' });
  t.same(recorder.tracked, [], 'a failed track leaves nothing behind');
});

t.test('close is idempotent and releases pins; use after close is an error', async (t) => {
  const { native, recorder } = setup('listed');
  const p = pin(4);
  recorder.track(4, p.pin);
  recorder.close();
  recorder.close();
  t.equal(p.state.released, 1);
  t.equal(native.calls.filter((c) => c === 'close').length, 1);
  t.throws(() => recorder.track(5), { code: 'ERR_RECORDER_CLOSED' });
});

function adopting(mode: RecorderMode, reusedMaps = ['mntns_syscalls', 'filter_mntns']) {
  const native = new FakeNativeRecorder();
  native.openResult = { adopted: true, reusedMaps, replacedMaps: [], droppedLink: false };
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const recorder = new Recorder({
    log,
    mode,
    facts,
    hostMntns: HOST,
    selfMntns: 4026532000,
    native,
    pinDir: '/sys/fs/bpf/spo',
  });
  return { native, recorder, lines };
}

t.test('pinning: the pin directory reaches the addon; without one nothing is pinned', async (t) => {
  const { native, recorder } = adopting('all');
  recorder.open();
  t.equal(native.opened?.pinDir, '/sys/fs/bpf/spo');
  const plain = setup('all');
  plain.recorder.open();
  t.notOk('pinDir' in (plain.native.opened ?? {}), 'the local CLI path passes none');
});

t.test('an adopted link stays attached through a self-test until endResume', async (t) => {
  const { native, recorder, lines } = adopting('all');
  recorder.open();
  t.ok(recorder.resuming);
  t.equal(native.isAttached, true, 'adopted: attached from open');
  t.ok(lines.some((l) => l['msg']?.toString().startsWith('adopted the pinned eBPF link')));
  // what the program recorded while no process held it: a restored container (9) and a stranger (12)
  native.record(9, 3, [83]);
  native.record(12, 5, [63]);
  recorder.track(20);
  recorder.untrack(20); // the self-test's child
  t.equal(native.isAttached, true, 'still held: nothing is restored yet');
  recorder.track(9);
  t.same([...recorder.peek(9)!.native], [83], 'the downtime syscalls of a live container are kept');
  t.same([...recorder.takeUntracked(12)!.native], [63], 'an exited one can be claimed');
  t.equal(recorder.takeUntracked(12), undefined, 'once');
  recorder.endResume();
  t.equal(native.isAttached, true, 'the restored namespace keeps it attached');
  recorder.untrack(9);
  t.equal(native.isAttached, false, 'then it detaches as usual');
  recorder.endResume();
  t.equal(native.isAttached, false, 'endResume is idempotent');
});

t.test('endResume with nothing restored detaches; a fresh open holds nothing', async (t) => {
  const { native, recorder } = adopting('all');
  recorder.open();
  recorder.endResume();
  t.equal(native.isAttached, false);
  t.equal(native.calls.at(-1), 'detach');
  const plain = setup('all');
  plain.recorder.open();
  t.notOk(plain.recorder.resuming);
});

t.test('inherited maps: tracking a namespace lifts an exclusion an earlier process left', async (t) => {
  const { native, recorder } = adopting('all');
  recorder.open();
  native.filter.add(77); // the earlier recorder's own namespace; the inode was freed and reused
  recorder.track(77);
  t.notOk(native.filter.has(77));
  const plain = setup('all');
  plain.recorder.track(77);
  t.notOk(plain.native.calls.includes('forget'), 'fresh maps: no extra call');
});

t.test('replaced maps and a dropped link are logged, not fatal', async (t) => {
  const native = new FakeNativeRecorder();
  native.openResult = {
    adopted: false,
    reusedMaps: [],
    replacedMaps: ['mntns_syscalls'],
    droppedLink: true,
  };
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const recorder = new Recorder({ log, mode: 'all', facts, hostMntns: HOST, native, pinDir: '/p' });
  recorder.open();
  t.match(lines, [
    { level: 40, maps: ['mntns_syscalls'], msg: /do not match this version: replaced/ },
    { level: 40, msg: /pinned eBPF links run another version of the program or fed replaced maps/ },
  ]);
  t.notOk(recorder.resuming);
  t.equal(native.isAttached, false);
});

t.test(
  'inherited maps are drained at open, before a new namespace can take an exited one’s number',
  async (t) => {
    const { native, recorder } = adopting('all');
    native.record(12, 5, [83]); // a container that exited while no recorder ran
    recorder.open();
    t.equal(native.entries.size, 0, 'moved out of the kernel map at once');
    t.same(recorder.untracked, [12]);
    t.same([...recorder.takeUntracked(12)!.native], [83]);
  },
);
