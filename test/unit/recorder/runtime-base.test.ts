import t from 'tap';
import { parseSeccompAudit } from '../../../src/recorder/audit.js';
import {
  baseName,
  crunBaseName,
  recordSource,
  reportedVersion,
  runcBaseName,
} from '../../../src/recorder/runtime-base.js';
import { renderRecordedBases } from '../../../src/recorder/runtime-base-file.js';

// Audit lines as the kernel printed them on this VM under SCMP_ACT_LOG profiles while containerd's shim ran crun
// 1.8.1 (its execve, then the pause workload of another round) and runc 1.1.5. The pid is the container's; exe is
// "/" for both runtimes, their binary lies outside the container's root by then.
const CRUN_EXECVE =
  'audit: type=1326 audit(1795329364.852:44071): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=1625 comm="crun" exe="/" sig=0 arch=c000003e syscall=59 compat=0 ip=0x7fd1874e9ad7 code=0x7ffc0000';
const RUNC_OPENAT =
  'audit: type=1326 audit(1795328169.888:42441): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=21670 comm="runc:[2:INIT]" exe="/" sig=0 arch=c000003e syscall=257 compat=0 ip=0x40828e code=0x7ffc0000';
const PAUSE_BRK =
  'audit: type=1326 audit(1795329419.032:44177): auid=4294967295 uid=65534 gid=65534 ses=4294967295 pid=3160 comm="pause" exe="/pause" sig=0 arch=c000003e syscall=12 compat=0 ip=0x4315c7 code=0x7ffc0000';

t.test("base names from the runtimes' --version output", async (t) => {
  const crun =
    'crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/crun\nspec: 1.0.0\n+SYSTEMD +SECCOMP\n';
  t.equal(crunBaseName(crun), 'crun-v1.8.1');
  t.equal(reportedVersion('crun', crun), '1.8.1');
  t.equal(crunBaseName('crun version 1.14.4-dirty\n'), 'crun-v1.14.4');
  t.equal(crunBaseName('crun version 1.8\n'), undefined, 'no patch level: no name');
  t.equal(crunBaseName('runc version 1.1.5+ds1\n'), undefined, 'not crun');
  t.equal(runcBaseName(crun), undefined, 'not runc');
  t.equal(baseName('runc', 'runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1\n'), 'runc-v1.1.5');
  t.equal(reportedVersion('runc', 'runc version 1.1.5+ds1\n'), '1.1.5+ds1');
});

t.test('crun records are told from the workload by comm, as runc ones are', async (t) => {
  const crun = parseSeccompAudit(CRUN_EXECVE);
  const runc = parseSeccompAudit(RUNC_OPENAT);
  const pause = parseSeccompAudit(PAUSE_BRK);
  if (crun === undefined || runc === undefined || pause === undefined) throw new Error('fixtures must parse');
  t.equal(crun.exe, runc.exe, 'exe cannot tell the runtimes apart');
  t.equal(crun.syscall, 59, "the execve itself is logged under the runtime's comm");
  t.equal(recordSource('crun', crun.comm, 'pause'), 'runtime');
  t.equal(recordSource('crun', pause.comm, 'pause'), 'workload');
  t.equal(recordSource('runc', runc.comm, 'pause'), 'runtime');
  t.equal(recordSource('runc', pause.comm, 'pause'), 'workload');
});

t.test('a record under any other comm is neither side', async (t) => {
  t.equal(recordSource('crun', 'runc:[2:INIT]', 'pause'), 'other', 'runc while recording crun');
  t.equal(recordSource('runc', 'crun', 'pause'), 'other', 'crun while recording runc');
  t.equal(recordSource('crun', 'crun-wrapper', 'pause'), 'other', 'only the exact comm');
  t.equal(recordSource('crun', 'runc:[1:CHILD]', 'pause'), 'other');
  t.equal(recordSource('runc', 'runc', 'pause'), 'other', 'runc before it re-executes as init');
  t.equal(recordSource('crun', 'sh', 'pause'), 'other');
});

t.test('the generated file keeps every base, sorted by name', async (t) => {
  const text = renderRecordedBases({
    'runc-v1.1.5': { runtime: 'runc', version: '1.1.5+ds1', kernel: 'k', syscalls: ['execve'] },
    'crun-v1.8.1': { runtime: 'crun', version: '1.8.1', kernel: 'k', syscalls: ['close', 'execve'] },
  });
  t.ok(text.indexOf('"crun-v1.8.1"') < text.indexOf('"runc-v1.1.5"'));
  t.match(text, /export const RECORDED_BASES/);
  t.match(text, /"syscalls":\["close","execve"\]/);
});
