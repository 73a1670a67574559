// Webhook over HTTPS: keep-alive, loopback, the server pinned to one core (taskset). Reports reviews/s of
// the binding route against the same server's empty route (/healthz) in the same run, then p99 latency at
// half the measured review rate (open loop, so a slow reply cannot slow the sender down).
// Run: node --import tsx bench/webhook/https.ts
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCa, issueServing } from '../../src/manager/x509.js';
import { benchReview, summarize } from './workload.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const SERVER_CPU = process.env.BENCH_SERVER_CPU ?? '0';

const dir = mkdtempSync(join(tmpdir(), 'webhook-bench-'));
const ca = await createCa('bench-ca', 1);
const serving = await issueServing(ca, ['127.0.0.1'], 1);
writeFileSync(join(dir, 'tls.crt'), serving.certPem);
writeFileSync(join(dir, 'tls.key'), serving.keyPem);

const serverScript = fileURLToPath(new URL('./https-server.ts', import.meta.url));
const child = spawn('taskset', ['-c', SERVER_CPU, process.execPath, '--import=tsx', serverScript, dir], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise<number>((resolve, reject) => {
  child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
});

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS, ca: ca.certPem });
const review = Buffer.from(JSON.stringify(benchReview()));

function once(path: string, body?: Buffer): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: body ? 'POST' : 'GET',
        agent,
        headers: body ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(Number(process.hrtime.bigint() - t0))
            : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function closedLoop(path: string, body?: Buffer): Promise<number> {
  let done = 0;
  const end = Date.now() + DURATION_MS;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) {
        await once(path, body);
        done++;
      }
    }),
  );
  return (done * 1000) / DURATION_MS;
}

async function openLoop(rate: number, path: string, body: Buffer): Promise<number[]> {
  const latencies: number[] = [];
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.floor((rate * DURATION_MS) / 1000);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(once(path, body).then((ns) => void latencies.push(ns)));
  }
  await Promise.all(inflight);
  return latencies;
}

try {
  await closedLoop('/healthz'); // warm-up: TLS handshakes, JIT
  await closedLoop('/mutate-v1-pod-binding', review);
  const empty = await closedLoop('/healthz');
  const reviews = await closedLoop('/mutate-v1-pod-binding', review);
  const lat = summarize(await openLoop(reviews / 2, '/mutate-v1-pod-binding', review));
  const result = {
    review_bytes: review.length,
    connections: CONNECTIONS,
    empty_route_rps: Math.round(empty),
    reviews_per_s: Math.round(reviews),
    reviews_vs_empty: reviews / empty,
    half_rate: Math.round(reviews / 2),
    p50_ms_at_half_rate: lat.p50 / 1e6,
    p99_ms_at_half_rate: lat.p99 / 1e6,
  };
  process.stdout.write(`webhook over HTTPS, server on cpu ${SERVER_CPU}, ${CONNECTIONS} keep-alive connections, ${review.length} B review
  empty route      ${result.empty_route_rps} req/s
  binding reviews  ${result.reviews_per_s} reviews/s = ${result.reviews_vs_empty.toFixed(2)}x empty   (target >= 0.25x)
  at ${result.half_rate}/s: p50 ${result.p50_ms_at_half_rate.toFixed(2)} ms, p99 ${result.p99_ms_at_half_rate.toFixed(2)} ms   (target p99 <= 5 ms)
${JSON.stringify(result)}
`);
} finally {
  agent.destroy();
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
