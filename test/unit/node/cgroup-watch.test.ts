// CgroupWatcher on a directory tree shaped like a cgroup v1 host (inotify works the same on any filesystem).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { CgroupWatcher, readCgroupProcs } from '../../../src/node/cgroup-watch.js';
import { waitFor } from '../../env/wait.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const log = pino({ level: 'silent' });

t.test('reports containers whose cgroup appears, at any depth under kubepods', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'cgw-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const kubepods = join(base, 'pids', 'spo-dev', 'kubepods');
  mkdirSync(join(kubepods, 'besteffort', 'pod1', A), { recursive: true });
  const seen: [string, string][] = [];
  const w = new CgroupWatcher({ cgroupBase: base, log, onContainer: (id, dir) => seen.push([id, dir]) });
  w.start();
  t.teardown(() => w.close());
  t.same([...w.watched].sort(), [
    kubepods,
    join(kubepods, 'besteffort'),
    join(kubepods, 'besteffort', 'pod1'),
  ]);
  t.same(seen, [], 'containers that existed before are not reported');

  mkdirSync(join(kubepods, 'besteffort', 'pod1', B));
  await waitFor(() => seen.length === 1, { what: 'B reported', timeoutMs: 5_000 });
  t.same(seen[0], [B, join(kubepods, 'besteffort', 'pod1', B)]);

  // a pod cgroup made with its container in one go: the container is found when the pod is
  mkdirSync(join(kubepods, 'pod2', `cri-containerd-${C}.scope`), { recursive: true });
  await waitFor(() => seen.length === 2, { what: 'C reported', timeoutMs: 5_000 });
  t.same(seen[1], [C, join(kubepods, 'pod2', `cri-containerd-${C}.scope`)]);
  t.ok(w.watched.includes(join(kubepods, 'pod2')), 'the new pod is watched');

  rmSync(join(kubepods, 'pod2'), { recursive: true });
  await waitFor(() => !w.watched.includes(join(kubepods, 'pod2')), {
    what: 'pod2 unwatched',
    timeoutMs: 5_000,
  });
  writeFileSync(join(kubepods, 'besteffort', 'pod1', 'cgroup.procs'), '');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(seen.length, 2, 'files are not containers');
});

t.test('no kubepods yet: looks again later', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'cgw-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const w = new CgroupWatcher({ cgroupBase: base, log, onContainer: () => {}, rediscoverMs: 20 });
  w.start();
  t.teardown(() => w.close());
  t.same(w.watched, []);
  mkdirSync(join(base, 'memory', 'kubepods'), { recursive: true });
  await waitFor(() => w.watched.length === 1, { what: 'kubepods found', timeoutMs: 5_000 });
  t.same(w.watched, [join(base, 'memory', 'kubepods')]);
});

t.test('readCgroupProcs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cgw-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'cgroup.procs'), '12\n7\n');
  t.same(await readCgroupProcs(dir), [12, 7]);
  t.equal(await readCgroupProcs(join(dir, 'gone')), undefined);
});
