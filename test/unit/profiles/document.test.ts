import t, { type Test } from 'tap';
import {
  decodeText,
  MAX_DOCUMENT_BYTES,
  parseDocuments,
  parseProfileText,
} from '../../../src/profiles/document.js';

function refuses(t: Test, fn: () => unknown, message: RegExp) {
  t.throws(fn, { name: 'DocumentError', message });
}

t.test('garbage never crashes the parser', async (t) => {
  refuses(t, () => parseDocuments('', 'empty.yaml'), /empty.yaml: no document found/);
  refuses(t, () => parseDocuments('\n# only a comment\n', 'c.yaml'), /no document found/);
  refuses(t, () => decodeText(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1]), 'bin'), /bin: binary data/);
  refuses(t, () => decodeText(new Uint8Array([0x61, 0xff, 0xfe, 0x62]), 'latin'), /not UTF-8 text/);
  refuses(
    t,
    () => decodeText(new Uint8Array(MAX_DOCUMENT_BYTES + 1).fill(0x61), 'big'),
    /profiles are limited to/,
  );
  refuses(t, () => parseDocuments('{"defaultAction": ', 'trunc.json'), /trunc.json: /);
  refuses(t, () => parseDocuments('a: 1\na: 2\n', 'dup.yaml'), /Map keys must be unique/);
  refuses(t, () => parseProfileText('- 1\n- 2\n', 'list.yaml'), /expected a mapping/);
  refuses(t, () => parseProfileText('just a string', 's.yaml'), /expected a mapping/);
});

t.test('a YAML alias bomb is refused quickly', async (t) => {
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  const names = 'abcdefgh';
  for (let i = 1; i < names.length; i++) {
    const prev = names[i - 1];
    levels.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const start = process.hrtime.bigint();
  refuses(t, () => parseDocuments(levels.join('\n'), 'bomb.yaml'), /Excessive alias count/);
  t.ok(process.hrtime.bigint() - start < 2_000_000_000n, 'bounded work');
});

t.test('10 MB of text is refused by size before parsing', async (t) => {
  refuses(t, () => parseDocuments('a'.repeat(10 * 1024 * 1024), 'huge.yaml'), /larger than/);
});

t.test('several documents in a profile file', async (t) => {
  const doc = 'defaultAction: SCMP_ACT_LOG\n';
  refuses(
    t,
    () => parseProfileText(`${doc}---\n${doc}`, 'two.yaml'),
    /2 documents found; expected exactly one/,
  );
  t.equal(parseDocuments(`${doc}---\n${doc}`, 'two.yaml').length, 2);
});

t.test('a binding is not a profile', async (t) => {
  const binding = `apiVersion: security-profiles-operator.x-k8s.io/v1alpha1
kind: ProfileBinding
metadata: {name: b}
spec: {profileRef: {kind: SeccompProfile, name: p}, image: nginx}
`;
  refuses(
    t,
    () => parseProfileText(binding, 'b.yaml'),
    /b.yaml: kind: is ProfileBinding; expected a SeccompProfile/,
  );
});

t.test('errors carry file and field', async (t) => {
  const text = '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"NOPE"}]}';
  t.throws(() => parseProfileText(text, 'p.json'), {
    code: 'ERR_INVALID_PROFILE',
    message: /^p\.json: syscalls\[0\]\.action: must be one of SCMP_ACT_KILL/,
  });
});
