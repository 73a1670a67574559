// In-process cost of admission: the pure decision, and the whole handler (bytes in, bytes out) against a
// bare JSON.parse + JSON.stringify of the same review, measured in the same run.
// Run: node --import tsx bench/webhook/decision.ts
import fastJsonPatch from 'fast-json-patch';
import pino from 'pino';
import { createMetrics, webhookMetrics } from '../../src/metrics/index.js';
import { buildApp, BINDING_PATH } from '../../src/webhook/app.js';
import { allowResponse, parseReview, podToMutate } from '../../src/webhook/admission-review.js';
import { decideBinding, indexBindings } from '../../src/webhook/binding.js';
import type { Pod } from '../../src/webhook/pod.js';
import { staticState } from '../../src/webhook/static-state.js';
import { benchBindings, benchPod, benchProfiles, benchReview, NAMESPACE, summarize } from './workload.js';

const ITER = Number(process.env.BENCH_ITER ?? 20_000);

function time(fn: () => unknown, iterations = ITER): number[] {
  for (let i = 0; i < Math.min(2_000, iterations); i++) fn();
  const out = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out[i] = Number(process.hrtime.bigint() - t0);
  }
  return out;
}

/** CPU time per call (user+sys over a long loop): unlike wall time, not inflated by other processes on the cores. */
function cpuPerCall(fn: () => unknown, iterations = ITER): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) fn();
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / iterations;
}

const fmt = (ns: number) => (ns >= 1_000 ? `${(ns / 1_000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);

const pod = benchPod() as Pod;
const index = indexBindings(benchBindings());
const profiles = new Set(benchProfiles);
const reviewBytes = Buffer.from(JSON.stringify(benchReview()));

const decision = summarize(time(() => decideBinding(pod, index, profiles, NAMESPACE)));
const patchOps = decideBinding(pod, index, profiles, NAMESPACE).patch.length;

// What the route does per request, minus the socket: parse, envelope, decide, answer, serialise.
const handler = () => {
  const body = JSON.parse(reviewBytes.toString('utf8')) as unknown;
  const parsed = parseReview(body);
  if (!parsed.ok) throw new Error(parsed.reason);
  const target = podToMutate(parsed.request);
  if (!('pod' in target)) throw new Error('not a pod');
  const d = decideBinding(target.pod, index, profiles, NAMESPACE);
  return JSON.stringify(allowResponse(parsed.request.apiVersion, parsed.request.uid, d));
};
const baseline = () => JSON.stringify(JSON.parse(reviewBytes.toString('utf8')));
// The controller-runtime way: mutate a deep copy, then diff the whole pod.
const diffing = () => {
  const body = JSON.parse(reviewBytes.toString('utf8')) as { request: { object: Pod } };
  const copy = structuredClone(body.request.object);
  const d = decideBinding(copy, index, profiles, NAMESPACE);
  fastJsonPatch.applyPatch(copy, d.patch, false, true);
  const patch = fastJsonPatch.compare(body.request.object, copy);
  return JSON.stringify({ response: { patch: Buffer.from(JSON.stringify(patch)).toString('base64') } });
};

// Interleaved rounds so drift (the Go build next door, GC) hits all three alike.
const h: number[] = [];
const b: number[] = [];
const dfs: number[] = [];
for (let round = 0; round < 10; round++) {
  h.push(...time(handler, ITER / 10));
  b.push(...time(baseline, ITER / 10));
  dfs.push(...time(diffing, ITER / 10));
}
const decisionCpu = cpuPerCall(() => decideBinding(pod, index, profiles, NAMESPACE));
const handlerCpu = cpuPerCall(handler);
const baselineCpu = cpuPerCall(baseline);
const hs = summarize(h);
const bs = summarize(b);
const ds = summarize(dfs);

// Through Fastify's inject (routing, parser, reply), still without a socket.
const metrics = createMetrics({ defaults: false });
const app = buildApp({
  state: staticState({ bindings: benchBindings(), profiles: { [NAMESPACE]: benchProfiles } }),
  log: pino({ level: 'silent' }),
  metrics: webhookMetrics(metrics),
  registry: metrics.registry,
  operatorNamespace: 'security-profiles-operator',
});
const injectSamples: number[] = [];
for (let i = 0; i < 3_000; i++) {
  const t0 = process.hrtime.bigint();
  await app.inject({
    method: 'POST',
    url: BINDING_PATH,
    headers: { 'content-type': 'application/json' },
    payload: reviewBytes,
  });
  if (i >= 500) injectSamples.push(Number(process.hrtime.bigint() - t0));
}
await app.close();
const is = summarize(injectSamples);

const result = {
  review_bytes: reviewBytes.length,
  patch_ops: patchOps,
  decision_p50_ns: decision.p50,
  decision_p99_ns: decision.p99,
  decision_cpu_ns: decisionCpu,
  handler_vs_baseline_cpu: handlerCpu / baselineCpu,
  handler_p50_ns: hs.p50,
  baseline_parse_stringify_p50_ns: bs.p50,
  handler_vs_baseline_p50: hs.p50 / bs.p50,
  handler_vs_baseline_mean: hs.mean / bs.mean,
  deep_clone_diff_vs_baseline_p50: ds.p50 / bs.p50,
  fastify_inject_p50_ns: is.p50,
  fastify_inject_p99_ns: is.p99,
};
process.stdout.write(`binding decision, 10-container pod, 1,000 bindings (${reviewBytes.length} B review, ${patchOps} ops)
  decision          p50 ${fmt(decision.p50)}  p99 ${fmt(decision.p99)}  cpu/call ${fmt(decisionCpu)}   (target p99 <= 20 µs)
  handler           p50 ${fmt(hs.p50)}  p99 ${fmt(hs.p99)}
  parse+stringify   p50 ${fmt(bs.p50)}  p99 ${fmt(bs.p99)}
  handler / baseline        ${result.handler_vs_baseline_p50.toFixed(2)}x p50, ${result.handler_vs_baseline_mean.toFixed(2)}x mean, ${result.handler_vs_baseline_cpu.toFixed(2)}x cpu   (target <= 1.5x)
  deep-clone diff / baseline ${result.deep_clone_diff_vs_baseline_p50.toFixed(2)}x p50   (what we avoid)
  fastify inject    p50 ${fmt(is.p50)}  p99 ${fmt(is.p99)}
${JSON.stringify(result)}
`);
