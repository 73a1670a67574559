import fastJsonPatch, { type Operation } from 'fast-json-patch';
import t from 'tap';
import type { ProfileBinding } from '../../../src/profiles/types.js';
import { decideBinding, indexBindings } from '../../../src/webhook/binding.js';
import type { Pod } from '../../../src/webhook/pod.js';
import { loadCases } from './fixtures.js';

interface BindingCase {
  pod: Pod;
  bindings: ProfileBinding[];
  profiles: string[];
  expected: { patch: Operation[]; warnings: string[]; applied?: unknown };
}

const cases = loadCases<BindingCase>('binding');
t.ok(cases.length >= 10, 'golden binding cases are present');

for (const { name, value: c } of cases) {
  t.test(name, async (t) => {
    const profiles = new Set(c.profiles);
    const decision = decideBinding(c.pod, indexBindings(c.bindings), profiles);
    t.same(decision.patch, c.expected.patch, 'patch');
    t.same(decision.warnings, c.expected.warnings, 'warnings');

    const before = structuredClone(c.pod);
    const patched = fastJsonPatch.applyPatch(structuredClone(c.pod), decision.patch, true, false).newDocument;
    t.same(c.pod, before, 'the decision does not mutate its input');
    if (c.expected.applied !== undefined) t.match(patched, c.expected.applied, 'patched pod');
    for (const op of decision.patch) {
      const ptr = op.path.replace(/\/securityContext.*$/, '');
      const ctr = fastJsonPatch.getValueByPointer(patched, ptr) as {
        securityContext?: { seccompProfile?: unknown };
      };
      t.equal(
        (ctr.securityContext?.seccompProfile as { type?: string } | undefined)?.type,
        'Localhost',
        `${ptr} runs under a Localhost profile`,
      );
    }
    const again = decideBinding(patched, indexBindings(c.bindings), profiles);
    t.same(again.patch, [], 'a second admission pass changes nothing');
  });
}
