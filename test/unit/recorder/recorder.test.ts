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
