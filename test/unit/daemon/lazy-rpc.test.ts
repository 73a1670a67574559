// The daemon's recorder and enricher clients load grpc-js at their first call (RSS budget), then behave as the
// real clients over a real unix socket.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import t from 'tap';
import { lazyEnricherClient, lazyRecorderClient } from '../../../src/daemon/lazy-rpc.js';
import { RecordingStore } from '../../../src/enricher/recording-store.js';
import { serveEnricher } from '../../../src/rpc/enricher-server.js';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '../../..');

t.test('nothing of grpc is loaded until the first call', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lazy-rpc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = `
    import Module from 'node:module';
    const grpcLoaded = () => Object.keys(Module._cache).some((f) => f.includes('@grpc'));
    const { lazyRecorderClient, lazyEnricherClient } = await import('./src/daemon/lazy-rpc.ts');
    const recorder = lazyRecorderClient(${JSON.stringify(join(dir, 'none.sock'))});
    const enricher = lazyEnricherClient(${JSON.stringify(join(dir, 'none.sock'))});
    const before = grpcLoaded();
    const err = await recorder.arm('owner').then(() => 'resolved', (e) => e.code);
    const after = grpcLoaded();
    const { RecorderClient } = await import('./src/rpc/recorder-client.ts');
    const real = new RecorderClient(${JSON.stringify(join(dir, 'none.sock'))});
    const realErr = await real.arm('owner').then(() => 'resolved', (e) => e.code);
    console.log(JSON.stringify({ before, after, err, realErr }));
    real.close();
    recorder.close();
    enricher.close();
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repo,
    timeout: 30_000,
  });
  const out = JSON.parse(stdout.trim()) as {
    before: boolean;
    after: boolean;
    err: unknown;
    realErr: unknown;
  };
  t.equal(out.before, false, 'making the clients loads no grpc');
  t.equal(out.after, true, 'the first call does');
  t.match(out.err, /^ERR_/, 'a call to a socket nobody serves fails with an AppError');
  t.equal(out.err, out.realErr, 'the same as the real client');
});

t.test('preload loads the recorder client at once and dials nothing until the first call', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lazy-rpc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socket = JSON.stringify(join(dir, 'r.sock'));
  const script = `
    import Module from 'node:module';
    import { createServer } from 'node:net';
    const grpcLoaded = () => Object.keys(Module._cache).some((f) => f.includes('@grpc'));
    let connections = 0;
    const server = createServer((s) => { connections++; s.destroy(); });
    await new Promise((resolve) => server.listen(${socket}, resolve));
    const { lazyRecorderClient } = await import('./src/daemon/lazy-rpc.ts');
    const recorder = lazyRecorderClient(${socket});
    recorder.preload();
    const loaded = async () => { while (!grpcLoaded()) await new Promise((r) => setTimeout(r, 10)); };
    await Promise.race([loaded(), new Promise((r) => setTimeout(r, 10_000))]);
    const afterPreload = grpcLoaded();
    await new Promise((r) => setTimeout(r, 300));
    const dialledEarly = connections;
    await recorder.arm('owner').catch(() => undefined);
    console.log(JSON.stringify({ afterPreload, dialledEarly, dialledByCall: connections }));
    recorder.close();
    server.close();
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repo,
    timeout: 30_000,
  });
  const out = JSON.parse(stdout.trim()) as {
    afterPreload: boolean;
    dialledEarly: number;
    dialledByCall: number;
  };
  t.equal(out.afterPreload, true, 'grpc is loaded without a call');
  t.equal(out.dialledEarly, 0, 'nothing dialled by the preload (the recorder may not listen yet)');
  t.ok(out.dialledByCall > 0, 'the first call dials');
});

t.test('the enricher client forwards each call to a real enricher service', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lazy-rpc-'));
  const socketPath = join(dir, 'e.sock');
  const store = new RecordingStore();
  let syncs = 0;
  const server = await serveEnricher({
    socketPath,
    store,
    log: pino({ level: 'silent' }),
    sync: async () => ++syncs > 0,
  });
  const client = lazyEnricherClient(socketPath);
  t.teardown(async () => {
    client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const key = { recording: 'rec', namespace: 'ns', pod: 'p', container: 'c' };
  store.add(key, 'x86_64', 'read');
  t.equal(await client.sync(), true);
  t.equal(syncs, 1);
  t.same(
    (await client.getSyscalls({ recording: 'rec', namespace: 'ns' })).map((c) => c.architectures),
    [[{ arch: 'x86_64', syscalls: ['read'] }]],
  );
  t.equal(await client.resetSyscalls({ ...key }), 1);
  t.same(await client.getSyscalls({ recording: 'rec', namespace: 'ns' }), []);
});

t.test('close before any call makes no client and is idempotent', async (t) => {
  const recorder = lazyRecorderClient('/nonexistent/r.sock');
  recorder.close();
  recorder.close();
  await t.rejects(
    recorder.arm('owner'),
    { code: 'ERR_RPC', message: 'client closed' },
    'a later call dials nothing',
  );
});
