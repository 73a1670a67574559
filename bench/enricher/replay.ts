// Replays a generated auditd log (default 100 MB) through the follower, parser and enricher, and reports
// lines/s and peak memory, next to a bare read-and-split of the same file in the same run.
// Usage: node --import tsx bench/enricher/replay.ts [--mb 100] [--keep]
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Enricher } from '../../src/enricher/enricher.js';
import { FileFollower } from '../../src/enricher/file-follower.js';
import { createEnricherMetrics } from '../../src/enricher/metrics.js';
import { RecordingStore } from '../../src/enricher/recording-store.js';
import type { ContainerResolver } from '../../src/enricher/resolver.js';

const { values } = parseArgs({
  options: { mb: { type: 'string', default: '100' }, keep: { type: 'boolean' } },
});
const targetBytes = Number(values.mb) * 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'enricher-bench-'));
const path = join(dir, 'audit.log');

const CONTAINERS = 50;
const PIDS = 2_000;

async function generate(): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  let lines = 0;
  let serial = 1;
  const exes = ['/usr/sbin/nginx', '/usr/local/bin/redis-server', '/bin/busybox', '/usr/bin/python3'];
  while (bytes < targetBytes) {
    const batch: string[] = [];
    for (let i = 0; i < 1000; i++, serial++) {
      const pid = 1000 + (serial % PIDS);
      let line: string;
      if (serial % 50 === 0) {
        line = `type=SYSCALL msg=audit(1700000000.${String(serial % 1000).padStart(3, '0')}:${serial}): arch=c000003e syscall=59 success=yes exit=0 pid=${pid} comm="sh" exe="/bin/sh" key=(null)`;
      } else if (serial % 997 === 0) {
        line = `type=SECCOMP msg=audit(1700000000.1:${serial}): pid=${pid} arch=c000003e sysc`;
      } else {
        line = `type=SECCOMP msg=audit(1700000000.${String(serial % 1000).padStart(3, '0')}:${serial}): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=unconfined pid=${pid} comm="worker" exe="${exes[pid % exes.length]}" sig=0 arch=c000003e syscall=${serial % 300} compat=0 ip=0x7f3fa7c24ad7 code=0x7ffc0000\x1dAUID="unset" UID="root" GID="root" ARCH=x86_64 SYSCALL=x`;
      }
      batch.push(line);
    }
    const text = `${batch.join('\n')}\n`;
    bytes += Buffer.byteLength(text);
    lines += batch.length;
    if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
  return lines;
}

function fakeResolver(): ContainerResolver {
  return {
    containerOfPid: async (pid) => ({ containerId: `c${pid % CONTAINERS}` }),
    podOfContainer: async (id) => ({
      namespace: 'bench',
      pod: `pod-${id}`,
      container: 'main',
      podAnnotations: { 'io.containers.trace-logs/main': 'rec' },
    }),
  };
}

let peakRss = 0;
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

async function bareSplit(): Promise<{ ms: number; lines: number }> {
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(256 * 1024);
  let lines = 0;
  let partial = '';
  const start = performance.now();
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    const parts = (partial + buf.toString('utf8', 0, bytesRead)).split('\n');
    partial = parts.pop() ?? '';
    lines += parts.length;
  }
  await fh.close();
  return { ms: performance.now() - start, lines };
}

async function enrich(): Promise<{ ms: number; lines: number }> {
  const log = pino(
    { level: 'info' },
    pino.destination({ dest: '/dev/null', sync: true, minLength: 8 * 1024 }),
  );
  const registry = new Registry();
  const enricher = new Enricher({
    nodeName: 'bench-node',
    source: 'audit',
    resolver: fakeResolver(),
    store: new RecordingStore(),
    filters: [],
    log,
    metrics: createEnricherMetrics(registry),
  });
  const follower = new FileFollower({ kind: 'audit', path, log: pino({ level: 'silent' }), fromStart: true });
  let lines = 0;
  const start = performance.now();
  await follower.readAvailable(async (batch) => {
    lines += batch.length;
    await enricher.handleLines(batch);
    sample();
  });
  const ms = performance.now() - start;
  await follower.stop();
  enricher.stop();
  const series = (
    await registry.getSingleMetric('security_profiles_operator_seccomp_profile_audit_total')?.get()
  )?.values.length;
  console.log(`  audit metric series: ${series}`);
  return { ms, lines };
}

const t0 = performance.now();
const generated = await generate();
const size = statSync(path).size;
console.log(
  `generated ${generated} lines, ${(size / 1048576).toFixed(1)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
sample();
const rssBefore = process.memoryUsage().rss;
const bare = await bareSplit();
const full = await enrich();
const rate = (r: { ms: number; lines: number }) => Math.round(r.lines / (r.ms / 1000));
console.log(
  `bare read+split:   ${rate(bare).toLocaleString('en')} lines/s (${(bare.ms / 1000).toFixed(2)} s)`,
);
console.log(
  `follow+parse+enrich+log+metric: ${rate(full).toLocaleString('en')} lines/s (${(full.ms / 1000).toFixed(2)} s, ${(size / 1048576 / (full.ms / 1000)).toFixed(1)} MiB/s)`,
);
console.log(`ratio enrich/bare: ${(full.ms / bare.ms).toFixed(2)}x`);
console.log(
  `rss before replay ${(rssBefore / 1048576).toFixed(0)} MiB, peak during replay ${(peakRss / 1048576).toFixed(0)} MiB (file ${(size / 1048576).toFixed(0)} MiB)`,
);
if (!values.keep) rmSync(dir, { recursive: true, force: true });
else console.log(`kept ${path}`);
