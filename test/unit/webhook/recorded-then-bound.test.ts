import t from 'tap';
import { type Decision, emptyDecision } from '../../../src/webhook/decision.js';
import type { Pod } from '../../../src/webhook/pod.js';
import { recordedThenBound } from '../../../src/webhook/recorded-then-bound.js';

const pod = (): Pod => ({
  metadata: { name: 'web', labels: { app: 'a' } },
  spec: { containers: [{ name: 'c', image: 'nginx' }] },
});

const recorded = (): Decision => ({
  patch: [
    { op: 'add', path: '/metadata/labels/spo.x-k8s.io~1recording-id', value: 'r' },
    { op: 'add', path: '/metadata/annotations', value: { 'io.containers.trace-logs/c': 'r' } },
  ],
  warnings: ['recording warning'],
  reasons: ['recording r'],
});

const bound: Decision = {
  patch: [{ op: 'add', path: '/spec/containers/0/securityContext', value: {} }],
  warnings: ['binding warning'],
  reasons: ['bound c'],
};

t.test('nothing recorded: the binding decision is the answer, for the pod as it came', async (t) => {
  const original = pod();
  let seen: Pod | undefined;
  const out = recordedThenBound(original, emptyDecision(), (p) => {
    seen = p;
    return bound;
  });
  t.equal(seen, original, 'no copy when recording changes nothing');
  t.equal(out, bound);
});

t.test('recorded: binding decides on the recorded pod; one patch, recording first', async (t) => {
  const original = pod();
  let seen: Pod | undefined;
  const out = recordedThenBound(original, recorded(), (p) => {
    seen = p;
    return bound;
  });
  t.same(seen?.metadata?.annotations, { 'io.containers.trace-logs/c': 'r' }, 'binding sees the annotation');
  t.equal(seen?.metadata?.labels?.['spo.x-k8s.io/recording-id'], 'r');
  t.same(original, pod(), 'the pod under review is not changed');
  t.same(
    out.patch.map((op) => op.path),
    [
      '/metadata/labels/spo.x-k8s.io~1recording-id',
      '/metadata/annotations',
      '/spec/containers/0/securityContext',
    ],
  );
  t.same(out.warnings, ['recording warning', 'binding warning']);
  t.same(out.reasons, ['recording r', 'bound c']);
});

t.test('a pod already labelled by a recording: its recording warnings are not given twice', async (t) => {
  const labelled = pod();
  (labelled.metadata?.labels as Record<string, string>)['spo.x-k8s.io/recording-id'] = 'r';
  const again = { ...emptyDecision(), warnings: ['recording warning'] };
  t.same(recordedThenBound(labelled, again, () => bound).warnings, ['binding warning']);
});
