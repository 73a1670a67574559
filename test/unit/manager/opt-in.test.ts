import t from 'tap';
import {
  type NamespaceMeta,
  type NamespacePatch,
  type OptInWant,
  ENABLE_BINDING_LABEL as B,
  ENABLE_RECORDING_LABEL as R,
  MANAGED_OPT_IN_ANNOTATION as M,
  optInPatch,
} from '../../../src/manager/opt-in.js';

const excluded = new Set(['kube-system', 'security-profiles-operator']);
const cases: Array<{ name: string; ns: NamespaceMeta; want: OptInWant; patch: NamespacePatch | undefined }> =
  [
    {
      name: 'a binding arrives: label set and remembered as ours',
      ns: { name: 'app' },
      want: { binding: true, recording: false },
      patch: { metadata: { labels: { [B]: 'true' }, annotations: { [M]: B } } },
    },
    {
      name: 'both arrive',
      ns: { name: 'app' },
      want: { binding: true, recording: true },
      patch: { metadata: { labels: { [B]: 'true', [R]: 'true' }, annotations: { [M]: `${B},${R}` } } },
    },
    {
      name: 'already as wanted: no patch',
      ns: { name: 'app', labels: { [B]: 'true' }, annotations: { [M]: B } },
      want: { binding: true, recording: false },
      patch: undefined,
    },
    {
      name: 'the last binding goes: our label removed',
      ns: { name: 'app', labels: { [B]: 'true', [R]: 'true' }, annotations: { [M]: `${B},${R}` } },
      want: { binding: false, recording: true },
      patch: { metadata: { labels: { [B]: null }, annotations: { [M]: R } } },
    },
    {
      name: 'a label the user set by hand is never removed',
      ns: { name: 'app', labels: { [B]: '' } },
      want: { binding: false, recording: false },
      patch: undefined,
    },
    {
      name: 'a label the user set by hand is not claimed either',
      ns: { name: 'app', labels: { [B]: '' } },
      want: { binding: true, recording: false },
      patch: undefined,
    },
    {
      name: 'system namespaces are never labelled',
      ns: { name: 'kube-system' },
      want: { binding: true, recording: true },
      patch: undefined,
    },
    {
      name: 'the operator namespace is never labelled, and our old label there is removed',
      ns: { name: 'security-profiles-operator', labels: { [R]: 'true' }, annotations: { [M]: R } },
      want: { binding: false, recording: true },
      patch: { metadata: { labels: { [R]: null }, annotations: { [M]: null } } },
    },
    {
      name: 'a user removed our label: we forget it, then set it again',
      ns: { name: 'app', annotations: { [M]: B } },
      want: { binding: true, recording: false },
      patch: { metadata: { labels: { [B]: 'true' }, annotations: { [M]: B } } },
    },
  ];
for (const c of cases) t.same(optInPatch(c.ns, c.want, excluded), c.patch, c.name);
