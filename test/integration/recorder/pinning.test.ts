// Pinned maps and link on a real bpffs (mounted by the test in a temporary directory): a recorder that closes
// without detaching leaves the program recording, the next open adopts it with what it recorded meanwhile,
// detach removes every pin, maps that no longer match are replaced instead of failing the load, and links
// that run another program than the one loaded are dropped instead of adopted.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { archOf, syscallName } from '../../../src/profiles/syscalls/index.js';
import { bitmapNumbers } from '../../../src/recorder/bitmap.js';
import { launchInFreshMntns } from '../../../src/recorder/launcher.js';
import {
  loadNative,
  type NativeEntry,
  type NativeOpenOptions,
  type NativeRecorder,
  nativePaths,
} from '../../../src/recorder/native.js';
import { hostMntns } from '../../../src/recorder/proc.js';
import { startRole } from '../../helpers/role-process.js';
import { bpfLinksOf, recorderSkip } from './prereqs.js';

const skip = recorderSkip();
const arch = archOf(process.arch);
// the object's maps change with the program; these two are what recording needs
const CORE_MAPS = ['filter_mntns', 'mntns_syscalls'];
// sys_enter's link, and sched_process_exit's, which keeps the BTF program's per-CPU cache honest
const LINKS = ['link', 'link-exit'];
// their programs, by which a later open tells whether the links run the code it loaded
const PINS = [...LINKS, 'prog', 'prog-exit'];

function sorted(names: readonly string[]): string[] {
  return [...names].sort();
}

/** A fresh bpffs of the test's own, unmounted afterwards; returns the recorder's pin directory in it. */
function bpffs(t: Test): string {
  const root = mkdtempSync(join(tmpdir(), 'spo-bpffs-'));
  execFileSync('mount', ['-t', 'bpf', 'bpf', root]);
  t.teardown(() => {
    execFileSync('umount', [root]);
    rmSync(root, { recursive: true, force: true });
  });
  const dir = join(root, 'recorder');
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

function options(pinDir: string, maxMntns = 8192): NativeOpenOptions {
  return { listedOnly: false, hostMntns: hostMntns(), maxMntns, program: 'btf', pinDir };
}

function names(entry: NativeEntry | undefined): string[] {
  return bitmapNumbers(entry?.native ?? new Uint8Array(0)).map((nr) => syscallName(arch, nr) ?? `#${nr}`);
}

/** The link ids that exist on the machine (bpftool reads them from the kernel, pinned or not). */
function linkIds(): number[] {
  const out = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })) as {
    id: number;
  }[];
  return out.map((l) => l.id);
}

function newNative(t: Test): NativeRecorder {
  const native = new (loadNative().Recorder)();
  t.teardown(() => native.close());
  return native;
}

/** A child in a fresh mount namespace that makes a directory while no recorder process holds the program. */
async function mkdirInFreshMntns(): Promise<number> {
  const dir = `/tmp/spo-pin-${process.pid}-${Date.now()}`;
  const launched = await launchInFreshMntns({
    helper: nativePaths().helper,
    argv: ['mkdir', dir],
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  launched.release();
  const status = await launched.exited;
  launched.pin.release();
  rmSync(dir, { recursive: true, force: true });
  if (status.code !== 0) throw new Error(`mkdir exited with ${status.code}`);
  return launched.mntns;
}

t.test(
  'pins survive a close without detach; the next open adopts them; detach removes them',
  { skip },
  async (t) => {
    const dir = bpffs(t);
    const first = newNative(t);
    t.same(first.open(options(dir)), {
      adopted: false,
      reusedMaps: [],
      replacedMaps: [],
      droppedLink: false,
    });
    t.same(readdirSync(dir), [], 'loaded, not attached: nothing pinned');
    first.attach();
    const pinned = sorted(readdirSync(dir));
    const maps = pinned.filter((n) => !PINS.includes(n));
    t.ok(
      PINS.every((l) => pinned.includes(l)),
      'attached: both links and their programs are pinned',
    );
    t.ok(
      CORE_MAPS.every((m) => maps.includes(m)),
      'and every map',
    );
    const held = sorted(bpfLinksOf(process.pid).map(String));
    t.equal(held.length, 2, 'sys_enter and sched_process_exit');
    first.close();
    t.same(bpfLinksOf(process.pid), [], 'this process holds no link any more');
    t.ok(
      held.every((id) => linkIds().includes(Number(id))),
      'but the pinned links still exist',
    );

    const mntns = await mkdirInFreshMntns();

    const second = newNative(t);
    const found = second.open(options(dir));
    t.same(
      { ...found, reusedMaps: sorted(found.reusedMaps) },
      { adopted: true, reusedMaps: maps, replacedMaps: [], droppedLink: false },
    );
    t.equal(second.info().attached, true, 'adopted: attached without a second program');
    t.same(sorted(bpfLinksOf(process.pid).map(String)), held, 'the same links');
    second.attach();
    t.same(sorted(bpfLinksOf(process.pid).map(String)), held, 'attach keeps the adopted links');
    const seen = names(second.drain(mntns)[0]);
    t.ok(
      seen.includes('mkdir') || seen.includes('mkdirat'),
      'what the child did while no process held the program',
    );
    t.ok(seen.includes('execve'));

    second.detach();
    t.same(readdirSync(dir), [], 'detach removes every pin');
    t.same(bpfLinksOf(process.pid), []);
    t.notOk(
      held.some((id) => linkIds().includes(Number(id))),
      'and the links are gone from the kernel',
    );
    second.close();

    const third = newNative(t);
    t.same(third.open(options(dir)), {
      adopted: false,
      reusedMaps: [],
      replacedMaps: [],
      droppedLink: false,
    });
    t.notOk(third.info().attached, 'nothing to adopt after a detach');
  },
);

t.test('pinned maps of another definition are replaced and their link dropped', { skip }, async (t) => {
  const dir = bpffs(t);
  const old = newNative(t);
  old.open(options(dir, 1024));
  old.attach();
  const held = bpfLinksOf(process.pid);
  old.close();
  t.ok(held.every((id) => linkIds().includes(id)));

  const upgraded = newNative(t);
  const found = upgraded.open(options(dir, 2048));
  t.ok(
    CORE_MAPS.every((m) => found.replacedMaps.includes(m)),
    'the resized maps are replaced',
  );
  t.ok(found.reusedMaps.length > 0, 'the others are reused');
  t.equal(found.adopted, false);
  t.equal(found.droppedLink, true, 'the old program fed the replaced maps');
  t.notOk(
    held.some((id) => linkIds().includes(id)),
    'so it no longer runs',
  );
  t.same(readdirSync(dir), [], 'and nothing is pinned until attach');
  upgraded.attach();
  t.same(sorted(readdirSync(dir)), sorted([...PINS, ...found.reusedMaps, ...found.replacedMaps]));
  upgraded.detach();
});

t.test(
  'a pinned sys_enter link without its sched_process_exit link is dropped, not adopted',
  { skip },
  async (t) => {
    const dir = bpffs(t);
    const crashed = newNative(t);
    crashed.open(options(dir));
    crashed.attach();
    const held = bpfLinksOf(process.pid);
    crashed.close();
    // sys_enter's link pinned alone: nothing would drop exiting tasks from its cache (the addon pins the
    // other link first, so a crash cannot leave this; an older version or a hand could)
    rmSync(join(dir, 'link-exit'));
    t.equal(held.filter((id) => linkIds().includes(id)).length, 1, 'only the sys_enter link is left');

    const native = newNative(t);
    const found = native.open(options(dir));
    t.equal(found.adopted, false, 'not adopted: its cache would no longer be cleared');
    t.equal(found.droppedLink, true);
    t.notOk(
      held.some((id) => linkIds().includes(id)),
      'the sys_enter link is gone from the kernel',
    );
    t.same(readdirSync(dir), []);
    native.attach();
    t.equal(bpfLinksOf(process.pid).length, 2, 'attach makes both again');
    native.detach();
  },
);

t.test(
  'pinned links of another program are dropped, not adopted, though every map matches',
  { skip },
  async (t) => {
    const dir = bpffs(t);
    const before = newNative(t);
    before.open(options(dir));
    before.attach();
    const held = bpfLinksOf(process.pid);
    before.close();
    const mntns = await mkdirInFreshMntns();

    // another program on the same maps, as another build's would be: the kernel's tag tells them apart
    const other = newNative(t);
    const found = other.open({ ...options(dir), program: 'task' });
    t.same(found.replacedMaps, [], 'every map matches');
    t.equal(found.adopted, false, 'not adopted');
    t.equal(found.droppedLink, true);
    t.notOk(
      held.some((id) => linkIds().includes(id)),
      'both links are gone from the kernel',
    );
    t.same(readdirSync(dir), []);
    const seen = names(other.drain(mntns)[0]);
    t.ok(
      seen.includes('mkdir') || seen.includes('mkdirat'),
      'what the dropped program recorded into the maps is still there',
    );
  },
);

t.test('detach removes stale pins an older version left', { skip }, async (t) => {
  const dir = bpffs(t);
  const crashed = newNative(t);
  crashed.open(options(dir));
  crashed.attach();
  crashed.close();
  execFileSync('bpftool', [
    'map',
    'create',
    join(dir, 'gone_map'),
    'type',
    'hash',
    'key',
    '4',
    'value',
    '4',
    'entries',
    '1',
    'name',
    'gone_map',
  ]);
  const native = newNative(t);
  t.equal(native.open(options(dir)).adopted, true);
  t.ok(existsSync(join(dir, 'gone_map')), 'an unknown pin is left alone while recording');
  native.detach();
  t.same(readdirSync(dir), []);
});

t.test('without a pin directory nothing is pinned (the local CLI)', { skip }, async (t) => {
  const dir = bpffs(t);
  const native = newNative(t);
  const { pinDir: _, ...plain } = options(dir);
  native.open(plain);
  native.attach();
  t.same(readdirSync(dir), []);
  const ids = bpfLinksOf(process.pid);
  native.close();
  t.notOk(
    linkIds().some((id) => ids.includes(id)),
    'closing ends the program',
  );
});

t.test(
  'the recorder service refuses a pin directory that is not on a bpffs, naming the fix',
  { skip },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'spo-notbpf-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const recorder = startRole([
      'recorder',
      '--socket',
      join(dir, 'r.sock'),
      '--state-dir',
      join(dir, 'state'),
      '--bpf-pin-dir',
      join(dir, 'pins'),
    ]);
    const err = await recorder
      .waitForLog((l) => l['msg'] === 'recorder listening')
      .then(
        () => new Error('started'),
        (e: Error) => e,
      );
    t.match(err.message, 'exited with 1');
    t.match(err.message, `${dir} is not a bpf filesystem`);
    t.match(err.message, 'mount -t bpf bpf /sys/fs/bpf');
    t.notOk(existsSync(join(dir, 'pins')), 'nothing made there');
  },
);
