import { readFileSync } from 'node:fs';
import t from 'tap';
import { MAX_LINE, parseAuditLine, type SeccompRecord } from '../../../src/enricher/audit-line.js';
import { syscallName } from '../../../src/profiles/syscalls/index.js';
import { parseKmsgRecord } from '../../../src/recorder/audit.js';
import { seededRandom } from './random.js';

interface Case {
  name: string;
  line?: string;
  kmsg?: string;
  expected: unknown;
}

const fixtures = JSON.parse(
  readFileSync(new URL('../../fixtures/audit/lines.json', import.meta.url), 'utf8'),
) as Case[];

// JSON has no undefined: fixtures write null for an absent field, records leave it undefined.
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (x === null ? undefined : x)));

t.test('fixture lines', async (t) => {
  for (const c of fixtures) {
    t.test(c.name, async (t) => {
      const line = c.kmsg !== undefined ? parseKmsgRecord(c.kmsg)?.message : c.line;
      t.type(line, 'string');
      t.same(plain(parseAuditLine(line ?? '')), plain(c.expected));
    });
  }
});

function generated(rand: () => number) {
  const int = (n: number) => Math.floor(rand() * n);
  const pid = 1 + int(4_194_303);
  const syscallId = int(460);
  const arch = rand() < 0.8 ? 'x86_64' : 'aarch64';
  const auditArch = arch === 'x86_64' ? 'c000003e' : 'c00000b7';
  const word = () => Array.from({ length: 1 + int(12) }, () => 'abcdefghij_-./:[]0123'[int(21)]).join('');
  const comm = word();
  const exe = `/${word()}/${word()}`;
  const timestamp = `${1_600_000_000 + int(1e8)}.${String(int(1000)).padStart(3, '0')}:${int(1e7)}`;
  const body = [
    `auid=${int(2 ** 32)}`,
    `uid=${int(65536)}`,
    `gid=${int(65536)}`,
    `ses=${int(2 ** 32)}`,
    `pid=${pid}`,
    `comm="${comm}"`,
    `exe="${exe}"`,
    'sig=0',
    `arch=${rand() < 0.5 ? auditArch : auditArch.toUpperCase()}`,
    `syscall=${syscallId}`,
    'compat=0',
    `ip=0x${int(2 ** 31).toString(16)}`,
    'code=0x7ffc0000',
  ].join(' ');
  const shapes = [
    `type=SECCOMP msg=audit(${timestamp}): ${body}`,
    `type=SECCOMP msg=audit(${timestamp}): ${body}\x1dAUID="unset" UID="root" ARCH=${arch} SYSCALL=x`,
    `audit: type=1326 audit(${timestamp}): ${body}`,
    `Nov 23 01:05:27 node-${word()} kernel: [ ${int(99999)}.${int(999999)}] audit: type=1326 audit(${timestamp}): ${body}`,
  ];
  const line = shapes[int(shapes.length)]!;
  return { line, pid, syscallId, arch, auditArch, comm, exe, timestamp };
}

t.test('generated lines in every shape parse to their fields', async (t) => {
  const rand = seededRandom(0x5eccc0);
  for (let i = 0; i < 5000; i++) {
    const g = generated(rand);
    const parsed = parseAuditLine(g.line);
    if (parsed.kind !== 'seccomp') {
      t.fail(`not parsed: ${g.line}`);
      break;
    }
    const want: Partial<SeccompRecord> = {
      timestamp: g.timestamp,
      pid: g.pid,
      comm: g.comm,
      exe: g.exe,
      auditArch: g.auditArch,
      arch: g.arch as SeccompRecord['arch'],
      syscallId: g.syscallId,
      syscallName: syscallName(g.arch as 'x86_64', g.syscallId),
      code: 0x7ffc0000,
    };
    if (JSON.stringify(parsed.record) !== JSON.stringify({ ...parsed.record, ...want })) {
      t.same(parsed.record, want, g.line);
      break;
    }
  }
  t.pass('5000 generated lines');
});

function mangle(line: string, rand: () => number): string {
  const int = (n: number) => Math.floor(rand() * n);
  const junk = [
    '=',
    '"',
    ' ',
    ')',
    '(',
    '\x1d',
    '\u00e9',
    '\0',
    'pid=',
    'audit(',
    'syscall=',
    '9'.repeat(40),
  ];
  switch (int(5)) {
    case 0:
      return line.slice(0, int(line.length));
    case 1: {
      const at = int(line.length);
      return line.slice(0, at) + junk[int(junk.length)]! + line.slice(at);
    }
    case 2: {
      const at = int(line.length);
      return line.slice(0, at) + line.slice(at + 1 + int(10));
    }
    case 3: {
      const a = int(line.length);
      const b = int(line.length);
      return (
        line.slice(0, Math.min(a, b)) +
        line.slice(Math.max(a, b)) +
        line.slice(Math.min(a, b), Math.max(a, b))
      );
    }
    default:
      return Array.from({ length: int(300) }, () => String.fromCharCode(int(0x2000))).join('');
  }
}

t.test('mangled lines never throw, and what parses is well-formed', async (t) => {
  const rand = seededRandom(0xbadc0de);
  const seen = { seccomp: 0, ignored: 0, malformed: 0 };
  for (let i = 0; i < 20_000; i++) {
    let line = generated(rand).line;
    for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) line = mangle(line, rand);
    const parsed = parseAuditLine(line);
    seen[parsed.kind]++;
    if (parsed.kind === 'seccomp') {
      const r = parsed.record;
      const ok =
        Number.isSafeInteger(r.pid) &&
        Number.isSafeInteger(r.syscallId) &&
        r.pid >= 0 &&
        /^\d+\.\d+:\d+$/.test(r.timestamp) &&
        /^[0-9a-f]{1,8}$/.test(r.auditArch) &&
        (r.syscallName === undefined || typeof r.syscallName === 'string');
      if (!ok) {
        t.fail(`bad record from ${JSON.stringify(line)}: ${JSON.stringify(r)}`);
        break;
      }
    }
  }
  t.ok(
    seen.seccomp > 0 && seen.ignored > 0 && seen.malformed > 0,
    `every outcome reached: ${JSON.stringify(seen)}`,
  );
});

t.test('an oversized line is malformed, not scanned', async (t) => {
  const line = `audit: type=1326 audit(1.1:1): pid=1 arch=c000003e syscall=1 ${'x'.repeat(MAX_LINE)}`;
  t.same(parseAuditLine(line), { kind: 'malformed', reason: 'too-long' });
});
