// Loaded into the benched daemon with --import: on SIGUSR2 it writes the process's memory breakdown as one JSON
// line to SPO_BENCH_MEMORY_FILE, so the bench can say where the RSS goes (V8 heap spaces, external, array
// buffers) without a heap snapshot, which would itself double the RSS it is meant to explain.
import { writeFileSync } from 'node:fs';
import { getHeapCodeStatistics, getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

const file = process.env['SPO_BENCH_MEMORY_FILE'];
const MB = 1024 * 1024;
const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;

if (file !== undefined && file !== '') {
  process.on('SIGUSR2', () => {
    const usage = process.memoryUsage();
    const heap = getHeapStatistics();
    const code = getHeapCodeStatistics();
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((s) => [s.space_name, mb(s.space_used_size)]),
    );
    const out = {
      rss: mb(usage.rss),
      heapTotal: mb(usage.heapTotal),
      heapUsed: mb(usage.heapUsed),
      external: mb(usage.external),
      arrayBuffers: mb(usage.arrayBuffers),
      mallocedMemory: mb(heap.malloced_memory),
      codeAndMetadata: mb(code.code_and_metadata_size + code.bytecode_and_metadata_size),
      spacesUsed: spaces,
    };
    writeFileSync(file, `${JSON.stringify(out)}\n`);
  });
}
