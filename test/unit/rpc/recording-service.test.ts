// The recorder's gRPC service over a real unix socket, with a fake kernel side: validation, error codes, and
// the tracker's bookkeeping (attribution, keys, collect-until-release, restore from a snapshot).
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { ContainerTracker } from '../../../src/node/container-tracker.js';
import type { TrackerSnapshot } from '../../../src/node/tracker-state.js';
import { Recorder } from '../../../src/recorder/recorder.js';
import { RecorderClient } from '../../../src/rpc/recorder-client.js';
import { serveRecorder } from '../../../src/rpc/recorder-server.js';
import { FakeNativeRecorder } from '../recorder/fake-native.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const log = pino({ level: 'silent' });

function entry(mntns: number, ...nrs: number[]) {
  const native = new Uint8Array(128);
  for (const nr of nrs) native[nr >> 3]! |= 1 << (nr & 7);
  return { mntns, nsId: 0, flags: 0, native, compat: new Uint8Array(128) };
}

function setup(known: Map<string, { pid: number; mntns: number }>, saves: TrackerSnapshot[] = []) {
  const native = new FakeNativeRecorder();
  const recorder = new Recorder({
    log,
    mode: 'all',
    facts: { uid: 0, kernelRelease: '6.1.0', kernelBtf: true },
    hostMntns: 1,
    native,
  });
  const byPid = new Map([...known.values()].map((v) => [v.pid, v.mntns]));
  const tracker = new ContainerTracker({
    recorder,
    resolve: async (id) => {
      const k = known.get(id);
      if (k === undefined)
        throw Object.assign(new Error(`cgroup path not found for container ${id}`), {
          code: 'ERR_CGROUP_NOT_FOUND',
        });
      return { containerId: id, pid: k.pid, mntns: k.mntns, method: 'cri' };
    },
    pin: (pid) => ({ mntns: byPid.get(pid) ?? -1, release() {} }),
    attribute: async (wanted) =>
      [...known.entries()]
        .filter(([, v]) => wanted.has(v.mntns))
        .map(([containerId, v]) => ({ containerId, pid: v.pid, mntns: v.mntns })),
    arch: 'x86_64',
    log,
    save: async (s) => {
      saves.push(s);
    },
  });
  return { native, recorder, tracker };
}

t.test('service: track, collect, release over the socket', async (t) => {
  const { native, tracker } = setup(new Map([[A, { pid: 10, mntns: 100 }]]));
  const dir = mkdtempSync(join(tmpdir(), 'rec-rpc-'));
  const server = await serveRecorder(join(dir, 'r.sock'), tracker, log);
  const client = new RecorderClient(server.socket);
  t.teardown(async () => {
    client.close();
    await server.close();
  });
  t.equal(statSync(server.socket).mode & 0o777, 0o600, 'socket is 0600');
  t.same(await client.health(), { attached: false, trackedContainers: 0, armedOwners: 0, collectedKeys: 0 });

  await t.rejects(client.track('nope', 'k'), { code: 'ERR_CONFIG' });
  await t.rejects(client.track(A, ''), { code: 'ERR_CONFIG' });
  await t.rejects(client.track(B, 'k'), { code: 'ERR_CGROUP_NOT_FOUND' });
  await t.rejects(client.collect('k'), { code: 'ERR_NOT_RECORDED' });

  t.same(await client.track(A, 'ns/u/web'), { mountNamespace: 100, method: 'cri', already: false });
  t.same(await client.track(A, 'ns/u/web'), { mountNamespace: 100, method: 'cri', already: true });
  await t.rejects(client.track(A, 'other'), { code: 'ERR_CONFIG' });
  native.entries.set(100, entry(100, 0, 83)); // read, mkdir
  const got = await client.collect('ns/u/web');
  t.same(got, { syscalls: ['mkdir', 'read'], arch: 'x86_64', containerIds: [A], warnings: [] });
  t.same(await client.collect('ns/u/web'), got, 'collected again until released');
  await client.release('ns/u/web');
  await t.rejects(client.collect('ns/u/web'), { code: 'ERR_NOT_RECORDED' });
});

t.test('tracker: a container seen starting while armed is attributed before anyone asks', async (t) => {
  const saves: TrackerSnapshot[] = [];
  const { native, tracker } = setup(new Map([[A, { pid: 10, mntns: 100 }]]), saves);
  tracker.arm('pod-uid');
  tracker.arm('pod-uid');
  t.equal(tracker.health().armedOwners, 1, 'arming is idempotent per owner');
  native.entries.set(100, entry(100, 59)); // execve, before the daemon knows the id
  native.entries.set(200, entry(200, 1)); // a host service with its own namespace
  await tracker.tick();
  t.equal(tracker.health().trackedContainers, 1);
  t.same(await tracker.track(A, 'k'), { mntns: 100, method: 'attributed', already: false });
  native.entries.set(100, entry(100, 83));
  await tracker.tick();
  t.same(saves.at(-1)?.containers, [
    { id: A, key: 'k', mntns: 100, nsId: 0, native: [59, 83], compat: [], outOfRange: false },
  ]);
  t.same((await tracker.collect('k')).syscalls, ['execve', 'mkdir']);
  t.equal(await tracker.disarm('pod-uid'), 0);
});

t.test('tracker: restore keeps what an earlier process drained', async (t) => {
  const { native, tracker } = setup(new Map([[A, { pid: 10, mntns: 100 }]]));
  await tracker.restore({
    version: 1,
    arms: ['pod-uid'],
    containers: [
      { id: A, key: 'k', mntns: 100, nsId: 0, native: [59], compat: [], outOfRange: false },
      { id: B, key: 'k', mntns: 300, nsId: 0, native: [60], compat: [], outOfRange: false },
    ],
    collected: [{ key: 'done', syscalls: ['read'], containerIds: [B], warnings: [] }],
  });
  t.match(tracker.health(), { armedOwners: 1, trackedContainers: 2, collectedKeys: 1 });
  native.entries.set(100, entry(100, 83));
  const got = await tracker.collect('k');
  t.same(got.syscalls, ['execve', 'exit', 'mkdir'], 'live and exited containers of the key, with saved data');
  t.same((await tracker.collect('done')).syscalls, ['read']);
});
