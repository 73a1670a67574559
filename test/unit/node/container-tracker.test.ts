// The tracker's cgroup-watch path: a container caught while its cgroup is new, before any drain or /proc pass.
import pino from 'pino';
import t from 'tap';
import { ContainerTracker } from '../../../src/node/container-tracker.js';
import { Recorder } from '../../../src/recorder/recorder.js';
import { FakeNativeRecorder } from '../recorder/fake-native.js';

const A = 'a'.repeat(64);
const log = pino({ level: 'silent' });
const HOST = 1;

function entry(mntns: number, ...nrs: number[]) {
  const native = new Uint8Array(128);
  for (const nr of nrs) native[nr >> 3]! |= 1 << (nr & 7);
  return { mntns, nsId: 0, flags: 0, native, compat: new Uint8Array(128) };
}

/** cgroup.procs answers in turn: first runc's first stage (host namespace), then the container's init. */
function setup(procs: (readonly number[] | undefined)[], mntnsOf: Record<number, number>) {
  const native = new FakeNativeRecorder();
  const recorder = new Recorder({
    log,
    mode: 'all',
    facts: { uid: 0, kernelRelease: '6.1.0', kernelBtf: true },
    hostMntns: HOST,
    native,
  });
  const released: number[] = [];
  let reads = 0;
  const tracker = new ContainerTracker({
    recorder,
    resolve: async () => {
      throw Object.assign(new Error('exited'), { code: 'ERR_CGROUP_NOT_FOUND' });
    },
    pin: (pid) => {
      const mntns = mntnsOf[pid];
      if (mntns === undefined) throw new Error('ENOENT');
      return { mntns, release: () => released.push(pid) };
    },
    attribute: async () => [],
    arch: 'x86_64',
    log,
    cgroupProcs: async () => procs[Math.min(reads++, procs.length - 1)],
    notContainer: new Set([HOST]),
    catchPolicy: { intervalMs: 1, timeoutMs: 2_000 },
  });
  return { native, tracker, released, reads: () => reads };
}

/** Until the background search has tracked something, or the bound runs out. */
async function settle(tracker: ContainerTracker, timeoutMs = 2_000) {
  const deadline = Date.now() + timeoutMs;
  while (tracker.health().trackedContainers === 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 2));
}

t.test('a container whose process is gone by the first drain keeps its syscalls', async (t) => {
  const { native, tracker, released } = setup([[10], [10, 11], [10, 11]], { 10: HOST, 11: 500 });
  tracker.arm('pod');
  tracker.containerCgroup(A, '/cg/pod/a');
  await settle(tracker);
  t.equal(tracker.health().trackedContainers, 1, 'caught');
  t.ok(released.includes(10), 'the pin on the host namespace is let go');
  native.entries.set(500, entry(500, 83)); // mkdir, then the container exits: nothing is left in /proc
  t.same(await tracker.track(A, 'k'), { mntns: 500, method: 'watched', already: false });
  t.same((await tracker.collect('k')).syscalls, ['mkdir']);
});

t.test('only while armed, once per container, and not past the cgroup', async (t) => {
  const idle = setup([[11]], { 11: 500 });
  idle.tracker.containerCgroup(A, '/cg/a');
  await new Promise((r) => setTimeout(r, 20));
  t.equal(idle.reads(), 0, 'not armed: the cgroup is not even read');

  const gone = setup([undefined], { 11: 500 });
  gone.tracker.arm('pod');
  gone.tracker.containerCgroup(A, '/cg/a');
  await new Promise((r) => setTimeout(r, 20));
  t.equal(gone.reads(), 1, 'a removed cgroup ends the search');
  t.equal(gone.tracker.health().trackedContainers, 0);

  const twice = setup([[11]], { 11: 500 });
  twice.tracker.arm('pod');
  twice.tracker.containerCgroup(A, '/cg/a');
  twice.tracker.containerCgroup(A, '/cg/a');
  await settle(twice.tracker);
  await new Promise((r) => setTimeout(r, 20));
  t.equal(twice.reads(), 1, 'one search per container');
  t.equal(twice.tracker.health().trackedContainers, 1);
  twice.tracker.containerCgroup(A, '/cg/a');
  t.equal(twice.reads(), 1, 'a known container is not searched again');
  t.equal(await twice.tracker.disarm('pod'), 0);
  t.equal(twice.tracker.health().trackedContainers, 0, 'nobody asked for it: dropped with the last arm');
});

t.test(
  'restore: a container that exited while the recorder was down gets what the pinned map held',
  async (t) => {
    const { native, tracker } = setup([undefined], {});
    const B = 'b'.repeat(64);
    const saved = (id: string, key: string, mntns: number, nsId: number) => ({
      id,
      key,
      mntns,
      nsId,
      native: [63], // uname, drained and saved before the kill
      compat: [],
      outOfRange: false,
    });
    // mkdir, recorded by the pinned program while no recorder ran; 501 is a new namespace on a reused inode
    native.entries.set(500, { ...entry(500, 83), nsId: 7 });
    native.entries.set(501, { ...entry(501, 83), nsId: 99 });
    await tracker.restore({
      version: 1,
      arms: ['pod'],
      containers: [saved(A, 'a', 500, 7), saved(B, 'b', 501, 8)],
      collected: [],
    });
    t.same((await tracker.collect('a')).syscalls, ['mkdir', 'uname']);
    t.same((await tracker.collect('b')).syscalls, ['uname'], 'another namespace instance is not mixed in');
  },
);
