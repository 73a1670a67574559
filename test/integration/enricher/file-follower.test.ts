import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { MAX_LINE } from '../../../src/enricher/audit-line.js';
import { FileFollower } from '../../../src/enricher/file-follower.js';

const log = pino({ level: 'silent' });

function follower(path: string, chunkBytes?: number) {
  const got: string[] = [];
  const f = new FileFollower({ kind: 'audit', path, log, ...(chunkBytes ? { chunkBytes } : {}) });
  const read = async () => {
    await f.readAvailable((lines) => {
      got.push(...lines);
    });
    return got.splice(0);
  };
  return { f, read };
}

t.test('starts at the end, then reads whole lines as they are appended', async (t) => {
  const path = join(t.testdir(), 'audit.log');
  writeFileSync(path, 'old 1\nold 2\n');
  const { f, read } = follower(path);
  t.teardown(() => f.stop());
  t.same(await read(), []);
  appendFileSync(path, 'new 1\nnew 2\nhalf');
  t.same(await read(), ['new 1', 'new 2']);
  appendFileSync(path, ' a line\n');
  t.same(await read(), ['half a line']);
});

t.test('lines split across chunks and multi-byte characters survive small reads', async (t) => {
  const path = join(t.testdir(), 'audit.log');
  writeFileSync(path, '');
  const { f, read } = follower(path, 7);
  t.teardown(() => f.stop());
  await read();
  appendFileSync(path, 'comm="żółw" exe="/bin/żółw"\nsecond line\n');
  t.same(await read(), ['comm="żółw" exe="/bin/żółw"', 'second line']);
});

t.test('rotation by rename: drains the old file, then reads the new one from its start', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'audit.log');
  writeFileSync(path, 'before start\n');
  const { f, read } = follower(path);
  t.teardown(() => f.stop());
  await read();
  appendFileSync(path, 'a\n');
  renameSync(path, join(dir, 'audit.log.1'));
  // written by the daemon to the old file after the rename, before it reopens
  appendFileSync(join(dir, 'audit.log.1'), 'b\nunterminated');
  writeFileSync(path, 'c\n');
  t.same(await read(), ['a', 'b', 'unterminated', 'c']);
  appendFileSync(path, 'd\n');
  t.same(await read(), ['d']);
});

t.test('truncation (copytruncate) rewinds to the start', async (t) => {
  const path = join(t.testdir(), 'audit.log');
  writeFileSync(path, 'x'.repeat(100) + '\n');
  const { f, read } = follower(path);
  t.teardown(() => f.stop());
  await read();
  truncateSync(path, 0);
  appendFileSync(path, 'after truncate\n');
  t.same(await read(), ['after truncate']);
});

t.test('a file that does not exist yet is read from its start once it appears', async (t) => {
  const path = join(t.testdir(), 'audit.log');
  const { f, read } = follower(path);
  t.teardown(() => f.stop());
  t.same(await read(), []);
  writeFileSync(path, 'first\n');
  t.same(await read(), ['first']);
});

t.test('a line longer than any record is cut, and the next line is intact', async (t) => {
  const path = join(t.testdir(), 'audit.log');
  writeFileSync(path, '');
  const { f, read } = follower(path, 4096);
  t.teardown(() => f.stop());
  await read();
  appendFileSync(path, 'y'.repeat(3 * MAX_LINE) + '\nnext\n');
  const lines = await read();
  t.equal(lines.length, 2);
  t.equal(lines[0]?.length, MAX_LINE + 1);
  t.equal(lines[1], 'next');
});

t.test('start() follows on its timer until stop()', async (t) => {
  const path = join(t.testdir(), 'audit.log');
  writeFileSync(path, '');
  const f = new FileFollower({ kind: 'audit', path, log, pollMs: 10 });
  await f.readAvailable(() => {}); // opened at the end before anything is appended
  const got: string[] = [];
  let wake: () => void = () => {};
  f.start(
    (lines) => {
      got.push(...lines);
      if (got.length >= 2) wake();
    },
    (err) => t.error(err),
  );
  const done = new Promise<void>((r) => {
    wake = r;
  });
  appendFileSync(path, 'one\ntwo\n');
  await done;
  await f.stop();
  t.same(got, ['one', 'two']);
});

t.test('catchUp() hands on what is there now, without waiting for the timer', async (t) => {
  const path = join(t.testdir(), 'audit.log');
  writeFileSync(path, '');
  const f = new FileFollower({ kind: 'audit', path, log, pollMs: 60_000 });
  await f.readAvailable(() => {});
  const got: string[] = [];
  let slow = 0;
  f.start(
    async (lines) => {
      // a sink that yields: a catch-up must still not interleave with the timer's pass
      slow++;
      await new Promise((r) => setTimeout(r, 5));
      got.push(...lines);
    },
    (err) => t.error(err),
  );
  t.teardown(() => f.stop());
  appendFileSync(path, 'one\n');
  await f.catchUp();
  t.same(got, ['one'], 'read at once, though the next poll is a minute away');
  appendFileSync(path, 'two\nthree\n');
  await Promise.all([f.catchUp(), f.catchUp()]);
  t.same(got, ['one', 'two', 'three'], 'each line once, in order');
  t.ok(slow >= 2);
});
