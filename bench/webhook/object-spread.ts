// Why the webhook's `pod admitted` log fields are spelled out (src/webhook/app.ts): on Node 20, an object
// literal that adds keys after a spread costs about a microsecond per added key, tens of times a literal with
// the same keys. Prints ns per object for each form, same run, so the ratio holds on any machine.
// Run: node --import tsx bench/webhook/object-spread.ts
const ITER = Number(process.env.BENCH_ITER ?? 200_000);

const ctx = {
  webhook: 'binding',
  uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
  namespace: 'bench',
  name: 'web',
};
const reasons = ['container nginx: operator/bench/p1.json from ProfileBinding b1'];
const warnings: string[] = [];
let sink: unknown;

const forms: Record<string, () => void> = {
  'spread only': () => {
    sink = { ...ctx };
  },
  'spread + 1 key': () => {
    sink = { ...ctx, reasons };
  },
  'spread + 2 keys (as the log line was)': () => {
    sink = { ...ctx, reasons, warnings };
  },
  'spelled out (as it is now)': () => {
    const { webhook, uid, namespace, name } = ctx;
    sink = { webhook, uid, namespace, name, reasons, warnings };
  },
};

function nsPer(form: () => void): number {
  for (let i = 0; i < 5_000; i++) form();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITER; i++) form();
  return Number(process.hrtime.bigint() - start) / ITER;
}

console.log(`object literals on node ${process.version}, ${ITER} each`);
const results = Object.fromEntries(Object.entries(forms).map(([name, form]) => [name, nsPer(form)]));
const base = results['spelled out (as it is now)'] ?? 1;
for (const [name, ns] of Object.entries(results)) {
  console.log(`  ${name.padEnd(40)} ${ns.toFixed(1).padStart(8)} ns  ${(ns / base).toFixed(1)}x`);
}
console.log(JSON.stringify({ node: process.version, ns_per_object: results, sink: typeof sink }));
