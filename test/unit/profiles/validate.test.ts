import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { checkDocument, parseDocuments } from '../../../src/profiles/document.js';
import { formatIssue } from '../../../src/profiles/issues.js';
import { validateRawProfile, validateSeccompProfile } from '../../../src/profiles/validate.js';
import { resource } from '../../helpers/profiles.js';

const seedDir = join(import.meta.dirname, '../../fixtures/seeds');

t.test('every resource from the seed documents validates unchanged', async (t) => {
  const files = readdirSync(seedDir).filter((f) => f.endsWith('.yaml'));
  t.ok(files.length >= 6);
  for (const file of files) {
    const [doc] = parseDocuments(readFileSync(join(seedDir, file), 'utf8'), file);
    const { result, document } = checkDocument(doc);
    t.same(result.errors, [], file);
    t.ok(document, `${file} is recognised`);
  }
});

// Each case breaks exactly one field; the error must name that field.
const invalid: Array<{ name: string; spec: Record<string, unknown>; path: string; message: RegExp }> = [
  { name: 'missing defaultAction', spec: {}, path: 'spec.defaultAction', message: /is required/ },
  {
    name: 'unknown action',
    spec: { defaultAction: 'SCMP_ACT_MAYBE' },
    path: 'spec.defaultAction',
    message: /must be one of SCMP_ACT_KILL/,
  },
  {
    name: 'unknown architecture',
    spec: { defaultAction: 'SCMP_ACT_LOG', architectures: ['SCMP_ARCH_Z80'] },
    path: 'spec.architectures[0]',
    message: /must be one of SCMP_ARCH_NATIVE/,
  },
  {
    name: 'unknown flag',
    spec: { defaultAction: 'SCMP_ACT_LOG', flags: ['NOPE'] },
    path: 'spec.flags[0]',
    message: /must be one of/,
  },
  {
    name: 'bad syscall action at index 3',
    spec: {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['close'], action: 'SCMP_ACT_ALLOW' },
        { names: ['open'], action: 'ALLOW' },
      ],
    },
    path: 'spec.syscalls[3].action',
    message: /must be one of SCMP_ACT_KILL, .*SCMP_ACT_NOTIFY/,
  },
  {
    name: 'empty names',
    spec: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] },
    path: 'spec.syscalls[0].names',
    message: /fewer than 1/,
  },
  {
    name: 'syscall name with a slash',
    spec: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['../read'], action: 'SCMP_ACT_ALLOW' }] },
    path: 'spec.syscalls[0].names[0]',
    message: /must be a syscall name/,
  },
  {
    name: 'missing syscall action',
    spec: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'] }] },
    path: 'spec.syscalls[0].action',
    message: /is required/,
  },
  {
    name: 'negative errnoRet',
    spec: {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: -1 }],
    },
    path: 'spec.syscalls[0].errnoRet',
    message: />= 0/,
  },
  {
    name: 'argument index 6',
    spec: {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] },
      ],
    },
    path: 'spec.syscalls[0].args[0].index',
    message: /<= 5/,
  },
  {
    name: 'argument operator',
    spec: {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'EQ' }] }],
    },
    path: 'spec.syscalls[0].args[0].op',
    message: /must be one of SCMP_CMP_NE/,
  },
  {
    name: 'seven arguments',
    spec: {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        {
          names: ['read'],
          action: 'SCMP_ACT_ALLOW',
          args: Array.from({ length: 7 }, () => ({ index: 0, value: 1, op: 'SCMP_CMP_EQ' })),
        },
      ],
    },
    path: 'spec.syscalls[0].args',
    message: /more than 6/,
  },
  {
    name: 'unknown spec field',
    spec: { defaultAction: 'SCMP_ACT_LOG', extra: true },
    path: 'spec.extra',
    message: /unknown field/,
  },
  {
    name: 'base profile name with a path',
    spec: { defaultAction: 'SCMP_ACT_LOG', baseProfileName: '../../etc/passwd' },
    path: 'spec.baseProfileName',
    message: /DNS-1123/,
  },
  {
    name: 'errnoRet on ALLOW',
    spec: {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }],
    },
    path: 'spec.syscalls[0].errnoRet',
    message: /only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE/,
  },
  {
    name: 'one syscall with two actions',
    spec: {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['write', 'read'], action: 'SCMP_ACT_LOG' },
      ],
    },
    path: 'spec.syscalls[1].names[1]',
    message: /"read" already has action SCMP_ACT_ALLOW in spec.syscalls\[0\]/,
  },
];

for (const c of invalid) {
  t.test(`rejects ${c.name}`, async (t) => {
    const { errors } = validateSeccompProfile(resource(c.spec));
    const match = errors.find((e) => e.path === c.path);
    t.ok(match, `an error at ${c.path}; got ${errors.map(formatIssue).join(' | ')}`);
    t.match(match?.message, c.message);
  });
}

t.test('metadata is checked because names become file names', async (t) => {
  for (const name of ['Profile1', '../x', 'a/b', '', 'x'.repeat(254)]) {
    const { errors } = validateSeccompProfile({
      ...resource({ defaultAction: 'SCMP_ACT_LOG' }),
      metadata: { name },
    });
    t.ok(
      errors.some((e) => e.path === 'metadata.name'),
      JSON.stringify(name),
    );
  }
});

t.test('apiVersion and kind are checked', async (t) => {
  const doc = {
    ...resource({ defaultAction: 'SCMP_ACT_LOG' }),
    apiVersion: 'security-profiles-operator.x-k8s.io/v2',
  };
  t.ok(validateSeccompProfile(doc).errors.some((e) => e.path === 'apiVersion'));
  t.match(checkDocument({ kind: 'Pod', apiVersion: 'v1' }).result.errors[0], { path: 'kind' });
  t.match(checkDocument([1, 2]).result.errors[0], { message: /expected a mapping/ });
});

t.test('unknown syscall names are warnings, not errors', async (t) => {
  const result = validateRawProfile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['read', 'frob'], action: 'SCMP_ACT_ALLOW' }],
  });
  t.same(result.errors, []);
  t.same(result.warnings, [{ path: 'syscalls[0].names[1]', message: 'unknown syscall "frob"' }]);
});

t.test('raw profiles: OCI fields accepted, Docker-only keys refused by name', async (t) => {
  t.same(
    validateRawProfile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, listenerPath: '/x' }).errors,
    [],
  );
  const { errors } = validateRawProfile({ defaultAction: 'SCMP_ACT_ERRNO', archMap: [] });
  t.same(errors, [{ path: 'archMap', message: 'unknown field' }]);
});

t.test('bindings and recordings', async (t) => {
  const binding = (spec: unknown) => ({
    apiVersion: 'security-profiles-operator.x-k8s.io/v1alpha1',
    kind: 'ProfileBinding',
    metadata: { name: 'b' },
    spec,
  });
  t.same(
    checkDocument(binding({ profileRef: { kind: 'SeccompProfile', name: 'p' }, image: '*' })).result.errors,
    [],
  );
  t.match(
    checkDocument(binding({ profileRef: { kind: 'AppArmorProfile', name: 'p' }, image: 'x' })).result.errors,
    [{ path: 'spec.profileRef.kind' }],
  );
  t.match(checkDocument(binding({ profileRef: { kind: 'SeccompProfile', name: 'p' } })).result.errors, [
    { path: 'spec.image' },
  ]);
  const recording = (spec: unknown) => ({
    apiVersion: 'security-profiles-operator.x-k8s.io/v1alpha1',
    kind: 'ProfileRecording',
    metadata: { name: 'r' },
    spec,
  });
  t.match(checkDocument(recording({ kind: 'SeccompProfile', recorder: 'bpf' })).result.errors, [
    { path: 'spec.podSelector' },
  ]);
  t.match(
    checkDocument(recording({ kind: 'SeccompProfile', recorder: 'strace', podSelector: {} })).result.errors,
    [{ path: 'spec.recorder', message: /must be one of bpf, logs, hook/ }],
  );
  t.match(
    checkDocument(
      recording({ kind: 'SeccompProfile', recorder: 'bpf', podSelector: {}, mergeStrategy: 'all' }),
    ).result.errors,
    [{ path: 'spec.mergeStrategy' }],
  );
});
