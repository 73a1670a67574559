import t from 'tap';
import type { LabelSelector } from '../../../src/profiles/types.js';
import { selectorMatches } from '../../../src/webhook/label-selector.js';

const labels = { app: 'web', tier: 'front' };
const cases: Array<{ name: string; selector: LabelSelector | undefined; want: boolean }> = [
  { name: 'no selector selects everything', selector: undefined, want: true },
  { name: 'empty selector selects everything', selector: {}, want: true },
  { name: 'matchLabels hit', selector: { matchLabels: { app: 'web' } }, want: true },
  { name: 'matchLabels miss', selector: { matchLabels: { app: 'db' } }, want: false },
  { name: 'matchLabels all must hold', selector: { matchLabels: { app: 'web', tier: 'back' } }, want: false },
  {
    name: 'In',
    selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] },
    want: true,
  },
  {
    name: 'In on an absent key',
    selector: { matchExpressions: [{ key: 'x', operator: 'In', values: ['a'] }] },
    want: false,
  },
  {
    name: 'In without values is invalid',
    selector: { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] },
    want: false,
  },
  {
    name: 'NotIn',
    selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] },
    want: true,
  },
  {
    name: 'NotIn on an absent key',
    selector: { matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['a'] }] },
    want: true,
  },
  {
    name: 'NotIn excludes',
    selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] },
    want: false,
  },
  { name: 'Exists', selector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, want: true },
  {
    name: 'DoesNotExist',
    selector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] },
    want: false,
  },
  {
    name: 'unknown operator selects nothing',
    selector: { matchExpressions: [{ key: 'app', operator: 'Gt' as 'In', values: ['1'] }] },
    want: false,
  },
];
for (const c of cases) t.equal(selectorMatches(c.selector, labels), c.want, c.name);
t.equal(selectorMatches({ matchLabels: { app: 'web' } }, undefined), false, 'a pod without labels');
