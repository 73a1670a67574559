import t from 'tap';
import { nameFromFileName, rawToSpec, specToRaw } from '../../../src/profiles/convert.js';
import { parseProfileText, renderProfile } from '../../../src/profiles/document.js';
import { profileFromSyscalls } from '../../../src/profiles/recorded.js';

const cr = `apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: web
  namespace: shop
spec:
  defaultAction: SCMP_ACT_ERRNO
  architectures:
    - SCMP_ARCH_X86_64
  syscalls:
    - names:
        - write
        - read
      action: SCMP_ACT_ALLOW
    - names:
        - ioctl
      action: SCMP_ACT_ALLOW
      args:
        - index: 1
          value: 21505
          valueTwo: 0
          op: SCMP_CMP_EQ
    - names:
        - mount
      action: SCMP_ACT_ERRNO
      errnoRet: 38
  flags:
    - SECCOMP_FILTER_FLAG_LOG
`;

t.test('CR -> raw -> CR is lossless', async (t) => {
  const first = parseProfileText(cr, 'web.yaml');
  t.equal(first.format, 'cr');
  const raw = renderProfile(first.profile, 'raw');
  const back = parseProfileText(raw, 'web.json', 'web');
  t.equal(back.format, 'raw');
  t.same(back.profile.spec, first.profile.spec);
  const again = renderProfile({ ...back.profile, metadata: first.profile.metadata }, 'cr');
  t.equal(again, cr, 'byte-identical YAML');
});

t.test('raw -> CR -> raw is lossless', async (t) => {
  const raw = {
    defaultAction: 'SCMP_ACT_LOG',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: [{ names: ['reboot'], action: 'SCMP_ACT_KILL_PROCESS' }],
  };
  const text = `${JSON.stringify(raw, null, 2)}\n`;
  const asCr = renderProfile(parseProfileText(text, 'x.json').profile, 'cr');
  t.equal(renderProfile(parseProfileText(asCr, 'x.yaml').profile, 'raw'), text);
});

t.test('raw fields a resource cannot hold are refused, not dropped', async (t) => {
  t.throws(() => rawToSpec({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1 }), {
    code: 'ERR_INVALID_PROFILE',
    message: /defaultErrnoRet: not representable/,
  });
});

t.test('an unresolved base cannot become raw JSON', async (t) => {
  t.throws(() => specToRaw({ defaultAction: 'SCMP_ACT_ERRNO', baseProfileName: 'runc-v1.1.5' }), {
    code: 'ERR_BASE_PROFILE',
    message: /must be resolved before writing raw seccomp JSON/,
  });
});

t.test('recorded syscalls become a sorted allow list', async (t) => {
  const p = profileFromSyscalls({
    name: 'rec-nginx',
    namespace: 'ns',
    arch: 'x86_64',
    syscalls: ['write', 'read', 'write'],
  });
  t.same(p.spec, {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }],
  });
  t.same(p.metadata, { name: 'rec-nginx', namespace: 'ns' });
});

t.test('names from file names', async (t) => {
  for (const [file, name] of [
    ['dir/My_Profile.json', 'my-profile'],
    ['a.yaml', 'a'],
    ['__.json', 'profile'],
    ['x.y.yml', 'x.y'],
  ] as const) {
    t.equal(nameFromFileName(file), name, file);
  }
});
