import t from 'tap';
import { SerialPoller } from '../../../src/enricher/serial-poller.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

t.test('passes never overlap, whether started by the timer or on demand', async (t) => {
  let inFlight = 0;
  let most = 0;
  let passes = 0;
  const poller = new SerialPoller(async () => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    await tick();
    passes += 1;
    inFlight -= 1;
  }, 1);
  poller.start(() => t.fail('no error expected'));
  await Promise.all([poller.runNow(), poller.runNow(), poller.runNow()]);
  await poller.stop();
  t.equal(most, 1, 'one pass at a time');
  t.ok(passes >= 4, `timer pass plus three on demand (${passes})`);
});

t.test('stop waits for the pass in flight and ends the loop', async (t) => {
  let finished = false;
  let passes = 0;
  let began: () => void = () => {};
  const beginning = new Promise<void>((resolve) => {
    began = resolve;
  });
  const poller = new SerialPoller(async () => {
    passes += 1;
    began();
    await tick();
    finished = true;
  }, 1);
  poller.start(() => t.fail('no error expected'));
  await beginning;
  await poller.stop();
  t.ok(finished, 'the pass that was running completed before stop resolved');
  const after = passes;
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.equal(passes, after, 'no pass after stop');
  await poller.runNow();
  t.equal(passes, after, 'on-demand passes do nothing once stopped');
  t.ok(poller.stopped);
});

t.test('a failing pass stops the loop and reports once; runNow still rejects to its caller', async (t) => {
  const errors: unknown[] = [];
  let passes = 0;
  const poller = new SerialPoller(async () => {
    passes += 1;
    throw new Error('read failed');
  }, 1);
  poller.start((err) => errors.push(err));
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.equal(errors.length, 1, 'the loop reported the first failure');
  t.equal(passes, 1, 'and did not poll again');
  await t.rejects(poller.runNow(), /read failed/);
  await poller.stop();
});
