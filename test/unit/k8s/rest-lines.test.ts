import t from 'tap';
import { LineSplitter } from '../../../src/k8s/rest/lines.js';
import { parseWatchEvent } from '../../../src/k8s/rest/watch-event.js';

const events = [
  { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '1' } } },
  {
    type: 'MODIFIED',
    object: { metadata: { name: 'ünïcødé-😀', resourceVersion: '2' }, data: { k: 'v\nw' } },
  },
  { type: 'BOOKMARK', object: { metadata: { resourceVersion: '3' } } },
];
const stream = Buffer.from(events.map((e) => `${JSON.stringify(e)}\n`).join(''));

t.test('every split point of the stream gives the same lines', async (t) => {
  const expected = events.map((e) => JSON.stringify(e));
  for (let a = 0; a <= stream.length; a++) {
    for (const b of [a, a + 1, a + 7, stream.length]) {
      if (b > stream.length) continue;
      const lines = new LineSplitter(1024);
      const got = [
        ...lines.push(stream.subarray(0, a)),
        ...lines.push(stream.subarray(a, b)),
        ...lines.push(stream.subarray(b)),
      ];
      if (lines.end() !== undefined || JSON.stringify(got) !== JSON.stringify(expected)) {
        t.fail(`split at ${a}/${b}: ${JSON.stringify(got)}`);
        return;
      }
    }
  }
  t.pass('all split points');
});

t.test('byte at a time, blank lines, a last line without newline', async (t) => {
  const lines = new LineSplitter(1024);
  const got: string[] = [];
  for (const byte of Buffer.from('\n{"a":1}\r\n\n  \n{"b":"é"}'))
    got.push(...lines.push(Buffer.from([byte])));
  t.same(got, ['{"a":1}\r']);
  t.equal(lines.end(), '{"b":"é"}');
  t.equal(lines.end(), undefined);
});

t.test('the pending line is a copy, not a view of a reused buffer', async (t) => {
  const lines = new LineSplitter(1024);
  const chunk = Buffer.from('{"x":');
  lines.push(chunk);
  chunk.fill(0x20);
  t.same(lines.push(Buffer.from('1}\n')), ['{"x":1}']);
});

t.test('memory is bounded: an endless line throws', async (t) => {
  const lines = new LineSplitter(10);
  t.same(lines.push(Buffer.from('0123456789\n')), ['0123456789'], 'exactly the limit is fine');
  lines.push(Buffer.from('01234'));
  t.throws(() => lines.push(Buffer.from('567890')), { name: 'RangeError', message: /longer than 10 bytes/ });
  t.throws(() => new LineSplitter(4).push(Buffer.from('12345\n')), RangeError, 'also within one chunk');
});

t.test('watch events', async (t) => {
  t.same(parseWatchEvent('{"type":"DELETED","object":{"metadata":{"name":"a"}}}'), {
    type: 'DELETED',
    object: { metadata: { name: 'a' } },
  });
  t.same(parseWatchEvent('{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}'), {
    type: 'ERROR',
    object: { kind: 'Status', code: 410, reason: 'Expired' },
  });
  for (const [line, message] of [
    ['{"type":"ADDED","object":{"metadata"', /watch event is not JSON/],
    ['{"type":"SOMETHING","object":{}}', /not a watch event/],
    ['{"type":"ADDED"}', /not a watch event/],
    ['{"type":"ADDED","object":null}', /not a watch event/],
    ['[1,2]', /not a watch event/],
    ['null', /not a watch event/],
  ] as const) {
    t.throws(() => parseWatchEvent(line), { message }, line);
  }
});
