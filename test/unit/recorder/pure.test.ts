import t from 'tap';
import {
  emptySyscalls,
  FLAG_OUT_OF_RANGE,
  FLAG_RUNTIME_START,
  foldDrain,
  foldEntry,
  groupByMntns,
} from '../../../src/recorder/aggregate.js';
import { archOfAudit, isDenial, parseKmsgRecord, parseSeccompAudit } from '../../../src/recorder/audit.js';
import { bitmapNumbers } from '../../../src/recorder/bitmap.js';
import { chooseProgram, explainNativeError, type HostFacts } from '../../../src/recorder/diagnose.js';
import { actionValue, archName, filterRequest } from '../../../src/recorder/filter-spec.js';
import { exitStatus } from '../../../src/recorder/launcher.js';
import { nameSyscalls, recordingWarnings } from '../../../src/recorder/names.js';
import { kernelAtLeast, parseKernelRelease, parseNsLink } from '../../../src/recorder/parse-proc.js';
import { runcBaseName } from '../../../src/recorder/runtime-base.js';
import { splitCommand } from '../../../src/cli/commands/record.js';
import { nativeError } from './fake-native.js';

t.test('bitmapNumbers reads little-endian u64 words', async (t) => {
  const bits = new Uint8Array(16);
  bits[0] = 0b0000_0011; // 0, 1
  bits[7] = 0x80; // 63
  bits[8] = 0x01; // 64
  t.same(bitmapNumbers(bits), [0, 1, 63, 64]);
  t.same(bitmapNumbers(new Uint8Array(128)), []);
});

t.test('parseNsLink', async (t) => {
  t.equal(parseNsLink('mnt:[4026531840]'), 4026531840);
  t.equal(parseNsLink('mnt:[4026531840]\n'), 4026531840);
  t.throws(() => parseNsLink('net:[4026531840]'));
  t.throws(() => parseNsLink('mnt:[99999999999]'));
  t.throws(() => parseNsLink('garbage'));
});

t.test('kernel versions', async (t) => {
  t.same(parseKernelRelease('6.18.44-fc-v669'), { major: 6, minor: 18 });
  t.equal(parseKernelRelease('weird'), undefined);
  t.ok(kernelAtLeast({ major: 5, minor: 12 }, 5, 12));
  t.notOk(kernelAtLeast({ major: 5, minor: 11 }, 5, 12));
  t.ok(kernelAtLeast({ major: 6, minor: 0 }, 5, 12));
});

const base: HostFacts = { uid: 0, kernelRelease: '6.1.0', kernelBtf: true };
t.test('chooseProgram', async (t) => {
  t.equal(chooseProgram(base), 'btf');
  t.equal(chooseProgram({ ...base, kernelBtf: false, btfPath: '/b', btfPathExists: true }), 'raw');
  t.throws(() => chooseProgram({ ...base, kernelBtf: false }), {
    code: 'ERR_BPF_PREREQ',
    message: /SPO_BTF_FILE/,
  });
  t.throws(() => chooseProgram({ ...base, kernelRelease: '5.10.0' }), { message: /too old.*5\.12/ });
  t.throws(() => chooseProgram({ ...base, btfPath: '/nope', btfPathExists: false }), {
    message: /SPO_BTF_FILE=\/nope does not exist/,
  });
});

t.test('explainNativeError names the capability, or the BTF fix', async (t) => {
  const notRoot = explainNativeError(nativeError('EPERM', 1, 'bpf_object__load'), 'load', {
    ...base,
    uid: 1000,
  });
  t.equal(notRoot.code, 'ERR_BPF_LOAD');
  t.match(notRoot.message, /run as root, or grant CAP_BPF and CAP_PERFMON/);
  t.match(
    explainNativeError(nativeError('EPERM', 1, 'x'), 'attach', base).message,
    /although running as root/,
  );
  t.match(explainNativeError(nativeError('ESRCH', 3, 'x'), 'load', base).message, /SPO_BTF_FILE/);
  t.match(explainNativeError(nativeError('ENOMEM', 12, 'x'), 'load', base).message, /RLIMIT_MEMLOCK/);
  t.equal(explainNativeError(new Error('x'), 'drain', base).code, 'ERR_BPF_DRAIN');
});

const entry = (nsId: number, nrs: number[], flags = 0) => {
  const native = new Uint8Array(128);
  for (const nr of nrs) native[nr >> 3]! |= 1 << (nr & 7);
  return { mntns: 1, nsId, flags, native, compat: new Uint8Array(128) };
};

t.test('foldEntry: unions one instance, drops older, restarts on newer', async (t) => {
  let s = foldEntry(undefined, entry(5, [1]));
  s = foldEntry(s, entry(5, [2]));
  t.same([...s.native], [1, 2]);
  s = foldEntry(s, entry(4, [3]));
  t.same([...s.native], [1, 2], 'older instance dropped');
  s = foldEntry(s, entry(6, [9], FLAG_OUT_OF_RANGE));
  t.same([...s.native], [9], 'newer instance replaces');
  t.equal(s.outOfRange, true);
  t.equal(foldEntry(emptySyscalls(), entry(0, [1])).nsId, 0, 'kernels without ids: plain union');
});

t.test('foldDrain: a runtime-start mark drops what earlier drains collected', async (t) => {
  // runc's set-up, drained before its init reached the reset
  let s = foldDrain(undefined, [entry(5, [59, 157, 272])]);
  t.same(
    [...s.native].sort((a, b) => a - b),
    [59, 157, 272],
  );
  s = foldDrain(s, [entry(5, [157, 0], FLAG_RUNTIME_START)]);
  t.same(
    [...s.native].sort((a, b) => a - b),
    [0, 157],
    'earlier drains dropped, the marked entry kept',
  );
  s = foldDrain(s, [entry(5, [1])]);
  t.same(
    [...s.native].sort((a, b) => a - b),
    [0, 1, 157],
    'later drains union as before',
  );

  // same drain: the namespace's other place (hash map entry) may hold bits from before the mark; all kept
  const same = foldDrain(foldDrain(undefined, [entry(7, [2])]), [
    entry(7, [3]),
    entry(7, [157], FLAG_RUNTIME_START),
  ]);
  t.same(
    [...same.native].sort((a, b) => a - b),
    [3, 157],
    'earlier drain dropped, both entries of this one kept',
  );
  t.equal(same.nsId, 7);

  const mixed = foldDrain(foldDrain(undefined, [entry(5, [2])]), [
    entry(5, [4]),
    entry(4, [3], FLAG_RUNTIME_START),
  ]);
  t.same(
    [...mixed.native].sort((a, b) => a - b),
    [2, 4],
    'a mark from another instance in a mixed drain drops nothing',
  );
  const newer = foldDrain(foldDrain(undefined, [entry(5, [2])]), [entry(6, [3], FLAG_RUNTIME_START)]);
  t.same([...newer.native], [3], 'a newer instance replaces, as without the mark');
  const noIds = foldDrain(foldDrain(undefined, [entry(0, [2])]), [entry(0, [3], FLAG_RUNTIME_START)]);
  t.same([...noIds.native], [3], 'kernels without ids: the mark still drops');
  const outOfRange = foldDrain(foldDrain(undefined, [entry(5, [], FLAG_OUT_OF_RANGE)]), [
    entry(5, [1], FLAG_RUNTIME_START),
  ]);
  t.equal(outOfRange.outOfRange, false, 'the out-of-range flag is set-up too');
  t.same([...foldDrain(undefined, []).native], []);
});

t.test('foldDrain: a later drain with another instance id replaces, whatever the ids order', async (t) => {
  // ids come from per-CPU batches: a newer namespace can have a smaller one
  let s = foldDrain(undefined, [entry(6712, [1, 2])]);
  s = foldDrain(s, [entry(2544, [3])]);
  t.same([...s.native], [3], 'the gone instance replaced');
  t.equal(s.nsId, 2544);
  s = foldDrain(s, [entry(2544, [4])]);
  t.same(
    [...s.native].sort((a, b) => a - b),
    [3, 4],
    'then unions as usual',
  );
  const both = foldDrain(foldDrain(undefined, [entry(9, [1])]), [entry(9, [2]), entry(7, [3])]);
  t.same(
    [...both.native].sort((a, b) => a - b),
    [1, 2],
    'both in one drain: the id comparison decides',
  );
});

t.test('groupByMntns keeps both places of a namespace together', async (t) => {
  const a = { ...entry(5, [1]), mntns: 10 };
  const b = { ...entry(6, [2]), mntns: 11 };
  const c = { ...entry(5, [3]), mntns: 10 };
  const groups = groupByMntns([a, b, c]);
  t.same([...groups.keys()], [10, 11]);
  t.equal(groups.get(10)!.length, 2);
});

t.test('names and warnings', async (t) => {
  const s = emptySyscalls();
  for (const nr of [0, 1, 63, 999]) s.native.add(nr);
  s.compat.add(4);
  const named = nameSyscalls('x86_64', s);
  t.same(named.names, ['read', 'uname', 'write']);
  t.same(named.unnamed, [999]);
  const w = recordingWarnings('x86_64', named);
  t.equal(w.length, 2);
  t.match(w[1], /32-bit/);
});

t.test('filter spec', async (t) => {
  t.equal(actionValue('SCMP_ACT_ERRNO', undefined), 0x50001, 'ERRNO defaults to EPERM');
  t.equal(actionValue('SCMP_ACT_ERRNO', 38), 0x50026);
  t.equal(actionValue('SCMP_ACT_KILL_PROCESS', undefined), 0x80000000);
  t.throws(() => actionValue('SCMP_ACT_NOTIFY', undefined), { code: 'ERR_SECCOMP' });
  t.equal(archName('SCMP_ARCH_X86_64'), 'x86_64');
  t.equal(archName('SCMP_ARCH_NATIVE'), undefined);
  const req = filterRequest(
    {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        {
          names: ['personality'],
          action: 'SCMP_ACT_ALLOW',
          args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }],
        },
        { names: ['kill'], action: 'SCMP_ACT_ERRNO' },
      ],
    },
    { log: true },
  );
  t.equal(req.flags, 4 | 2);
  t.equal(req.spec.defaultAction, 0x50026);
  t.equal(req.spec.badArchAction, 0x50026);
  t.same(req.spec.architectures, ['x86_64', 'x86']);
  t.same(
    req.spec.rules.map((r) => r.name),
    ['read', 'write', 'personality', 'kill'],
  );
  t.same(req.spec.rules[2]!.args, [{ index: 0, op: 4, value: 8n, valueTwo: 0n }]);
  t.equal(req.spec.rules[3]!.action, 0x50026, 'rule ERRNO without errnoRet takes defaultErrnoRet');
});

const LINE =
  'audit: type=1326 audit(1795307184.168:2): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=13565 comm="uname" ' +
  'exe="/usr/bin/uname" sig=0 arch=c000003e syscall=63 compat=0 ip=0x7f33c65c5b07 code=0x50000';

t.test('seccomp audit lines', async (t) => {
  t.same(parseKmsgRecord(`5,1234,605047082,-;${LINE}`), { seq: 1234, message: LINE });
  t.equal(parseKmsgRecord('no separator'), undefined);
  const d = parseSeccompAudit(LINE)!;
  t.match(d, {
    pid: 13565,
    comm: 'uname',
    exe: '/usr/bin/uname',
    auditArch: 'c000003e',
    syscall: 63,
    compat: false,
    code: 0x50000,
  });
  t.ok(isDenial(d));
  t.notOk(isDenial({ ...d, code: 0x7ffc0000 }), 'SCMP_ACT_LOG is not a denial');
  t.equal(archOfAudit('c00000b7'), 'aarch64');
  t.equal(parseSeccompAudit('audit: type=1400 apparmor="DENIED"'), undefined);
  t.equal(
    parseSeccompAudit('type=SECCOMP msg=audit(1.2:3): pid=1 comm="x" arch=c000003e syscall=1 code=0x0')
      ?.syscall,
    1,
  );
});

t.test('runcBaseName', async (t) => {
  t.equal(runcBaseName('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1\nspec: 1.0.2-dev\n'), 'runc-v1.1.5');
  t.equal(runcBaseName('runc version 1.2.0-rc.1\n'), 'runc-v1.2.0');
  t.equal(runcBaseName('crun version 1.8'), undefined);
});

t.test('exitStatus reports signals as 128+N', async (t) => {
  t.same(exitStatus(3, null), { code: 3, signal: null });
  t.same(exitStatus(null, 'SIGINT'), { code: 130, signal: 'SIGINT' });
  t.same(exitStatus(null, 'SIGKILL'), { code: 137, signal: 'SIGKILL' });
});

t.test('splitCommand', async (t) => {
  t.same(splitCommand(['-o', 'f', '--', 'ls', '-la']), { own: ['-o', 'f'], command: ['ls', '-la'] });
  t.same(splitCommand(['-o', 'f', 'uname']), { own: ['-o', 'f'], command: ['uname'] });
  t.same(splitCommand(['--name', 'x']), { own: ['--name', 'x'], command: [] });
});
