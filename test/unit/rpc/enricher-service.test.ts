// The enricher's gRPC service over a real unix socket: validation, NOT_FOUND as [], reset, and Sync.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t, { type Test } from 'tap';
import { RecordingStore } from '../../../src/enricher/recording-store.js';
import { EnricherClient } from '../../../src/rpc/enricher-client.js';
import { serveEnricher, validSelector } from '../../../src/rpc/enricher-server.js';

const log = pino({ level: 'silent' });

async function serve(t: Test, sync?: () => Promise<boolean>) {
  const dir = mkdtempSync(join(tmpdir(), 'enr-rpc-'));
  const socketPath = join(dir, 'e.sock');
  const store = new RecordingStore();
  const server = await serveEnricher({ socketPath, store, log, ...(sync ? { sync } : {}) });
  const client = new EnricherClient(socketPath, 5_000);
  t.teardown(async () => {
    client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, client, socketPath };
}

t.test('GetSyscalls, ResetSyscalls, Sync', async (t) => {
  let syncs = 0;
  let answer = true;
  const { store, client, socketPath } = await serve(t, async () => {
    syncs++;
    return answer;
  });
  t.equal(statSync(socketPath).mode & 0o777, 0o600, 'socket is 0600');
  t.same(await client.getSyscalls({ recording: 'rec', namespace: 'ns' }), [], 'nothing recorded: empty');
  await t.rejects(client.getSyscalls({ recording: 'Rec', namespace: 'ns' }), {
    code: 'ERR_RPC',
    message: /recording must be a DNS-1123 name/,
  });
  const key = { recording: 'rec', namespace: 'ns', pod: 'my-pod', container: 'nginx' };
  store.add(key, 'x86_64', 'mkdir');
  store.add(key, 'x86_64', 'read');
  store.add({ ...key, container: 'redis' }, 'x86_64', 'uname');
  t.same(await client.getSyscalls({ ...key }), [
    { ...key, podUid: '', architectures: [{ arch: 'x86_64', syscalls: ['mkdir', 'read'] }], records: '2' },
  ]);
  t.equal(await client.sync(), true);
  answer = false;
  t.equal(await client.sync(), false, 'the enricher says records still wait');
  t.equal(syncs, 2);
  t.equal(await client.resetSyscalls({ ...key }), 1, 'only the selected container');
  t.same(
    (await client.getSyscalls({ recording: 'rec', namespace: 'ns', pod: 'my-pod' })).map((c) => c.container),
    ['redis'],
  );
});

t.test('a pod made again under the same name is another pod', async (t) => {
  const { store, client } = await serve(t);
  const key = { recording: 'rec', namespace: 'ns', pod: 'web-0', container: 'c' };
  store.add({ ...key, podUid: 'aa11' }, 'x86_64', 'mkdir');
  store.add({ ...key, podUid: 'bb22' }, 'x86_64', 'uname');
  const first = await client.getSyscalls({ ...key, podUid: 'aa11' });
  t.same(
    first.map((c) => [c.podUid, c.architectures[0]?.syscalls]),
    [['aa11', ['mkdir']]],
  );
  t.equal(await client.resetSyscalls({ ...key, podUid: 'aa11' }), 1);
  t.same(
    (await client.getSyscalls({ ...key })).map((c) => c.podUid),
    ['bb22'],
    'the second pod keeps its records',
  );
});

t.test('Sync without a source to catch up with, and a failing one', async (t) => {
  const plain = await serve(t);
  t.equal(await plain.client.sync(), true);
  const failing = await serve(t, async () => {
    throw new Error('EIO');
  });
  await t.rejects(failing.client.sync(), { code: 'ERR_RPC', message: /cannot read the audit source: EIO/ });
});

t.test('validSelector', async (t) => {
  t.same(validSelector({ recording: 'r', namespace: 'n', pod: '', container: '' }), {
    recording: 'r',
    namespace: 'n',
  });
  t.match(
    validSelector({ recording: 'r', namespace: 'n', pod: 'P' }),
    /pod must be empty or a DNS-1123 name/,
  );
  t.match(
    validSelector({ recording: 'r', namespace: 'n', podUid: '../x' }),
    /pod_uid must be empty or a pod uid/,
  );
  t.same(validSelector({ recording: 'r', namespace: 'n', podUid: 'a1b2-c3' }), {
    recording: 'r',
    namespace: 'n',
    podUid: 'a1b2-c3',
  });
});
