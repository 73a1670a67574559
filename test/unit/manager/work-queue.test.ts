import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import t from 'tap';
import { WorkQueue } from '../../../src/manager/work-queue.js';

const silent = pino({ level: 'silent' });
// the queue's timers are unref'd (they must not keep a stopping process alive); this keeps the test's
const keepAlive = setInterval(() => {}, 1_000);
t.teardown(() => clearInterval(keepAlive));

function recordingQueue(fail?: (key: string, n: number) => Error | undefined) {
  const passes: string[] = [];
  const queue = new WorkQueue(async (key) => {
    passes.push(key);
    const err = fail?.(key, passes.filter((k) => k === key).length);
    if (err) throw err;
  }, silent);
  return { queue, passes };
}

t.test('adds before start wait for it, and a burst for one key is one pass', async (t) => {
  const { queue, passes } = recordingQueue();
  for (let i = 0; i < 5; i++) queue.add('ns-a');
  queue.add('ns-b');
  queue.add(undefined);
  await sleep(20);
  t.same(passes, [], 'nothing before start');
  queue.start();
  await queue.idle();
  t.same(passes, ['ns-a', 'ns-b']);
});

t.test('settled adds of a key wait the delay and become one pass', async (t) => {
  const { queue, passes } = recordingQueue();
  queue.start();
  for (let i = 0; i < 5; i++) queue.addSettled('ns-a', 80);
  await sleep(30);
  queue.addSettled('ns-a', 80);
  t.same(passes, [], 'not before the delay');
  await queue.idle();
  t.same(passes, ['ns-a'], 'one pass for all six');
  queue.addSettled('ns-a', 10);
  await queue.idle();
  t.same(passes, ['ns-a', 'ns-a'], 'a settled add after the pass is a new one');
});

t.test('idle waits for a settling key; stop drops it and releases the waiter', async (t) => {
  const { queue, passes } = recordingQueue();
  queue.start();
  queue.addSettled('ns-a', 60_000);
  let idle = false;
  const waiting = queue.idle().then(() => {
    idle = true;
  });
  await sleep(20);
  t.equal(idle, false, 'still settling');
  queue.stop();
  await waiting;
  t.equal(idle, true);
  t.same(passes, [], 'the dropped key never ran');
});

t.test('a failed pass is retried, logged at the level the owner picks', async (t) => {
  const lines: { level: number; key: string; msg: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  const passes: string[] = [];
  const results: boolean[] = [];
  const conflict = Object.assign(new Error('conflict'), { quiet: true });
  const queue = new WorkQueue(
    async (key) => {
      passes.push(key);
      if (passes.length === 1) throw conflict;
      if (passes.length === 2) throw new Error('boom');
    },
    log,
    (ok) => results.push(ok),
    { failureLevel: (err) => ((err as { quiet?: boolean }).quiet ? 'debug' : 'warn') },
  );
  queue.start();
  queue.add('ns-a');
  for (let i = 0; i < 40 && passes.length < 3; i++) await sleep(100);
  await queue.idle();
  t.same(passes, ['ns-a', 'ns-a', 'ns-a'], 'retried until it passed');
  t.same(results, [false, false, true]);
  const failures = lines.filter((l) => l.msg === 'reconcile failed; retrying');
  t.same(
    failures.map((l) => [l.level, l.key]),
    [
      [20, 'ns-a'],
      [40, 'ns-a'],
    ],
    'debug for the quiet failure, warn for the other',
  );
  queue.stop();
});
