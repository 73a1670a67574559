import fastJsonPatch, { type Operation } from 'fast-json-patch';
import t from 'tap';
import type { ProfileRecording } from '../../../src/profiles/types.js';
import type { Pod } from '../../../src/webhook/pod.js';
import { decideRecording, RECORDING_ID_LABEL, sortRecordings } from '../../../src/webhook/recording.js';
import { loadCases } from './fixtures.js';

interface RecordingCase {
  pod: Pod;
  recordings: ProfileRecording[];
  operatorNamespace: string;
  expected: { patch: Operation[]; warnings: string[]; applied?: unknown };
}

const cases = loadCases<RecordingCase>('recording');
t.ok(cases.length >= 10, 'golden recording cases are present');

for (const { name, value: c } of cases) {
  t.test(name, async (t) => {
    const options = { operatorNamespace: c.operatorNamespace };
    const recordings = sortRecordings(c.recordings);
    const decision = decideRecording(c.pod, recordings, options);
    t.same(decision.patch, c.expected.patch, 'patch');
    t.same(decision.warnings, c.expected.warnings, 'warnings');

    const before = structuredClone(c.pod);
    const patched = fastJsonPatch.applyPatch(structuredClone(c.pod), decision.patch, true, false)
      .newDocument as Pod;
    t.same(c.pod, before, 'the decision does not mutate its input');
    if (c.expected.applied !== undefined) t.match(patched, c.expected.applied, 'patched pod');
    if (decision.patch.length > 0) {
      const id = patched.metadata?.labels?.[RECORDING_ID_LABEL];
      t.ok(id, 'the patched pod carries the recording id');
      const traced = Object.entries(patched.metadata?.annotations ?? {}).filter(([k]) =>
        k.startsWith('io.containers.trace-'),
      );
      t.ok(
        traced.length > 0 && traced.every(([, v]) => v === id),
        'every trace annotation names the recording',
      );
    }
    t.same(
      decideRecording(patched, recordings, options).patch,
      [],
      'a second admission pass changes nothing',
    );
  });
}
