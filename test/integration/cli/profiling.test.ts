// Real role processes with --verbosity and --enable-profiling: the verbosity line comes first, the profiling
// server listens on loopback only, and what it serves is a CPU profile / heap snapshot Chrome DevTools can load.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { type RoleProcess, startRole } from '../../helpers/role-process.js';
import { recorderSkip } from '../recorder/prereqs.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

function http(method: string, host: string, port: number, path: string, timeoutMs = 30_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ method, host, port, path, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** A short directory: unix socket paths must stay under 108 bytes, which tap's fixture paths do not. */
function shortDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'spo-prof-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The port the role logged ("Starting profiling server", endpoint localhost:<port>). */
async function profilingPort(role: RoleProcess): Promise<number> {
  const line = await role.waitForLog((l) => l['msg'] === 'Starting profiling server');
  const m = /^localhost:(\d+)$/.exec(String(line['endpoint']));
  if (m === null) throw new Error(`unexpected endpoint ${String(line['endpoint'])}`);
  return Number(m[1]);
}

/** A non-loopback IPv4 address of this machine, to show the server is not reachable there. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

/**
 * An enricher with profiling on a random port, reading an empty audit log; CRI resolution is lazy, so a
 * socket that does not exist is only a problem once a record needs it.
 */
function startProfiledEnricher(t: Test, args: string[], env: Record<string, string>): RoleProcess {
  const dir = shortDir(t);
  const auditLog = join(dir, 'audit.log');
  writeFileSync(auditLog, '');
  const enricher = startRole(
    [
      'enricher',
      '--source',
      'audit',
      '--audit-log',
      auditLog,
      '--socket',
      join(dir, 'enricher.sock'),
      '--insecure-metrics',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--profiling-port',
      '0',
      ...args,
    ],
    { SPO_CRI_ENDPOINT: `unix://${join(dir, 'no-cri.sock')}`, ...env },
  );
  t.teardown(() => enricher.stop());
  return enricher;
}

t.test('enricher: verbosity line first, CPU profile, heap snapshot, loopback only', async (t) => {
  // The flag beats LOG_LEVEL from the environment.
  const enricher = startProfiledEnricher(t, ['--verbosity', '1', '--enable-profiling'], {
    LOG_LEVEL: 'warn',
  });
  const port = await profilingPort(enricher);
  await enricher.waitForLog((l) => l['msg'] === 'enricher started');

  t.match(
    enricher.lines[0],
    { msg: 'Set logging verbosity to 1', verbosity: 1, logLevel: 'debug', role: 'enricher', level: 30 },
    'the first line names the verbosity (the flag beats LOG_LEVEL from the environment)',
  );
  t.ok(port > 0, `listening on ${port}`);

  const index = await http('GET', '127.0.0.1', port, '/debug/pprof/');
  t.equal(index.status, 200);
  t.match(index.body.toString(), /\/debug\/pprof\/profile\?seconds=N/);

  const started = Date.now();
  const cpu = await http('GET', '127.0.0.1', port, '/debug/pprof/profile?seconds=1');
  t.equal(cpu.status, 200);
  t.ok(Date.now() - started >= 900, 'the profile covers the asked second');
  t.match(cpu.headers['content-disposition'], /attachment; filename="enricher-\d{8}T\d{6}Z\.cpuprofile"/);
  const profile = JSON.parse(cpu.body.toString()) as {
    nodes: Array<{ id: number; callFrame: { functionName: string } }>;
    startTime: number;
    endTime: number;
    samples: number[];
  };
  t.ok(Array.isArray(profile.nodes) && profile.nodes.length > 0, 'a .cpuprofile with call-tree nodes');
  t.ok(profile.nodes.some((n) => n.callFrame.functionName === '(root)'));
  t.ok(
    profile.endTime - profile.startTime >= 900_000,
    'startTime/endTime in microseconds, about a second apart',
  );

  // One profile at a time: the second request while the first runs is refused, and the first still completes.
  const first = http('GET', '127.0.0.1', port, '/debug/pprof/profile?seconds=2');
  await enricher.waitForLog((l) => l['msg'] === 'CPU profile started' && l['seconds'] === 2);
  const busy = await http('GET', '127.0.0.1', port, '/debug/pprof/heap');
  t.equal(busy.status, 409, 'busy');
  t.match(busy.body.toString(), /already being taken/);
  t.equal((await first).status, 200);

  const heap = await http('GET', '127.0.0.1', port, '/debug/pprof/heap');
  t.equal(heap.status, 200);
  t.match(heap.headers['content-disposition'], /filename="enricher-\d{8}T\d{6}Z\.heapsnapshot"/);
  t.equal(heap.headers['transfer-encoding'], 'chunked', 'streamed as V8 hands it out');
  t.match(heap.body.subarray(0, 64).toString(), /^\{"snapshot":\{"meta":/, 'a .heapsnapshot head');
  const snapshot = JSON.parse(heap.body.toString()) as { snapshot: { node_count: number }; nodes: number[] };
  t.ok(snapshot.snapshot.node_count > 1000 && snapshot.nodes.length > 0, 'a whole heap snapshot');
  // Logged when the stream ends, which can be just after the client has the last byte.
  t.match(await enricher.waitForLog((l) => l['msg'] === 'heap snapshot served', 10_000), {
    bytes: heap.body.length,
    component: 'profiling',
  });

  const bad = await http('GET', '127.0.0.1', port, '/debug/pprof/profile?seconds=3600');
  t.equal(bad.status, 400);
  t.match(bad.body.toString(), /seconds must be a whole number from 1 to 60/);
  t.equal((await http('POST', '127.0.0.1', port, '/debug/pprof/heap')).status, 405);
  t.equal((await http('GET', '127.0.0.1', port, '/metrics')).status, 404, 'nothing else is served here');

  const external = externalAddress();
  if (external !== undefined) {
    const refused = await http('GET', external, port, '/debug/pprof/', 5_000).then(
      () => 'answered',
      (err: NodeJS.ErrnoException) => err.code,
    );
    t.equal(refused, 'ECONNREFUSED', `not reachable on ${external}`);
  } else {
    t.comment('no non-loopback IPv4 address on this machine; loopback-only binding not probed from outside');
  }

  t.equal(await enricher.stop(), 0, 'clean shutdown');
  const after = await http('GET', '127.0.0.1', port, '/debug/pprof/', 5_000).then(
    () => 'answered',
    (err: NodeJS.ErrnoException) => err.code,
  );
  t.equal(after, 'ECONNREFUSED', 'the profiling server is closed with the role');
});

t.test('a profile in progress does not hold up shutdown', async (t) => {
  const enricher = startProfiledEnricher(t, [], { SPO_ENABLE_PROFILING: 'true', SPO_VERBOSITY: '0' });
  const port = await profilingPort(enricher);
  t.match(enricher.lines[0], { msg: 'Set logging verbosity to 0', verbosity: 0, logLevel: 'info' });
  await enricher.waitForLog((l) => l['msg'] === 'enricher started');
  const long = http('GET', '127.0.0.1', port, '/debug/pprof/profile?seconds=60').then(
    (a) => a.status,
    (err: NodeJS.ErrnoException) => err.code ?? err.message,
  );
  await enricher.waitForLog((l) => l['msg'] === 'CPU profile started');
  const stopping = Date.now();
  t.equal(await enricher.stop(), 0);
  t.ok(Date.now() - stopping < 4_000, 'stopped without waiting for the profile');
  t.not(await long, 200, 'the abandoned profile is not answered');
});

t.test('recorder: self-test steps are logged in order', { skip: recorderSkip() }, async (t) => {
  const dir = shortDir(t);
  const recorder = startRole([
    'recorder',
    '--socket',
    join(dir, 'recorder.sock'),
    '--state-dir',
    join(dir, 'state'),
    // no bpffs here: the self-test is what is looked at
    '--bpf-pin-dir',
    'none',
    '--enable-profiling',
    '--profiling-port',
    '0',
  ]);
  t.teardown(() => recorder.stop());
  await recorder.waitForLog((l) => l['msg'] === 'recorder listening');
  t.match(recorder.lines[0], { msg: 'Set logging verbosity to 0', verbosity: 0 });
  const steps = recorder.lines.filter((l) => typeof l['step'] === 'string');
  t.same(
    steps.map((l) => l['step']),
    ['load', 'attach', 'child seen', 'detach'],
  );
  t.ok(
    steps.every((l) => l['level'] === 30),
    'at info',
  );
  t.match(steps[1], { attached: true });
  t.match(steps[3], { attached: false });
  t.ok(Number(steps[2]?.['syscalls']) > 0);
  const port = await profilingPort(recorder);
  const cpu = await http('GET', '127.0.0.1', port, '/debug/pprof/profile?seconds=1');
  t.equal(cpu.status, 200);
  t.ok((JSON.parse(cpu.body.toString()) as { nodes: unknown[] }).nodes.length > 0);
  t.equal(await recorder.stop(), 0);
});
