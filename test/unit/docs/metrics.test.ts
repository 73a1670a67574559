// docs/metrics.md must describe every metric each role exposes, in that role's section, with its type and
// labels: the registries are built the way the roles build them (src/cli/commands/*), and every metric
// constructed anywhere in src/ must be documented too, so a new one cannot slip past a role list here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import t from 'tap';
import { createDaemonMetrics } from '../../../src/daemon/metrics.js';
import { createRecordingMetrics } from '../../../src/daemon/recording-metrics.js';
import { createEnricherMetrics } from '../../../src/enricher/metrics.js';
import { createMetrics, managerMetrics, webhookMetrics } from '../../../src/metrics/index.js';
import { readDoc, section } from './markdown.js';

const ROLES: Record<string, () => Registry> = {
  webhook: () => {
    const m = createMetrics();
    webhookMetrics(m);
    return m.registry;
  },
  manager: () => {
    const m = createMetrics();
    managerMetrics(m);
    return m.registry;
  },
  daemon: () => {
    const { registry } = createMetrics();
    createDaemonMetrics(registry);
    createRecordingMetrics(registry);
    return registry;
  },
  enricher: () => {
    const { registry } = createMetrics();
    createEnricherMetrics(registry);
    return registry;
  },
};

/** prom-client's collectDefaultMetrics families, documented as groups rather than one by one. */
const DEFAULT_FAMILIES = ['process_', 'nodejs_'];

const doc = readDoc('metrics.md');

for (const [role, build] of Object.entries(ROLES)) {
  t.test(`${role}: every metric it exposes is in its section`, async (t) => {
    const text = section(doc, `## ${role}`);
    if (text === undefined) {
      t.fail(`docs/metrics.md has no "## ${role}" section`);
      return;
    }
    const registry = build();
    const metrics = await registry.getMetricsAsJSON();
    const own = metrics.filter((m) => !DEFAULT_FAMILIES.some((f) => m.name.startsWith(f)));
    t.ok(own.length > 0, `${role} has metrics of its own`);
    for (const m of own) {
      const row = text.split('\n').find((l) => l.startsWith(`| \`${m.name}\` |`));
      if (row === undefined) {
        t.fail(`${m.name} (${role}) is not described in docs/metrics.md`);
        continue;
      }
      t.match(row, `| ${m.type} |`, `${m.name} is documented as a ${m.type}`);
      const labels =
        (registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] }).labelNames ?? [];
      t.same(
        labels.filter((l) => !row.includes(`\`${l}\``)),
        [],
        `${m.name}: every label is named (${labels.join(', ')})`,
      );
    }
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${role}\` |`));
    t.ok(row, `the endpoint table has a row for ${role}`);
  });
}

t.test('the process metrics every role exports are described as families', async (t) => {
  const metrics = await ROLES['webhook']!().getMetricsAsJSON();
  for (const family of DEFAULT_FAMILIES) {
    t.ok(
      metrics.some((m) => m.name.startsWith(family)),
      `prom-client still exports ${family}*`,
    );
    t.ok(doc.includes(`\`${family}*\``), `docs/metrics.md names the ${family}* family`);
  }
});

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

t.test('every metric constructed in src/ is documented', async (t) => {
  const src = join(import.meta.dirname, '../../../src');
  const names = new Set<string>();
  for (const file of sources(src)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /new (?:Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\{\s*name: '([a-z0-9_:]+)'/g,
    ))
      names.add(m[1] as string);
  }
  t.ok(names.size >= 10, `found the metrics in src/ (${names.size})`);
  t.same(
    [...names].filter((n) => !doc.includes(`\`${n}\``)),
    [],
    'each is named in docs/metrics.md',
  );
});
