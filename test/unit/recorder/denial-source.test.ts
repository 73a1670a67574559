import t from 'tap';
import {
  type AuditFacts,
  auditdLogFile,
  chooseDenialSource,
  denialOf,
  ownedByCommand,
  liveParent,
  parseAuditStatus,
  RECENT_AUDIT_LOG_MS,
} from '../../../src/recorder/denial-source.js';

const NOW = 1_800_000_000_000;
const base: AuditFacts = {
  auditPid: 0,
  auditdRunning: false,
  auditLog: '/var/log/audit/audit.log',
  auditLogMtimeMs: undefined,
  kmsg: '/dev/kmsg',
  nowMs: NOW,
};

t.test('chooseDenialSource: the audit log while an audit daemon takes the records', async (t) => {
  const cases: Array<{ name: string; facts: Partial<AuditFacts>; kind: 'kmsg' | 'audit'; reason?: RegExp }> =
    [
      { name: 'no daemon registered: kmsg', facts: {}, kind: 'kmsg' },
      {
        name: 'no daemon registered, even with a fresh log and auditd binary around: kmsg',
        facts: { auditLogMtimeMs: NOW - 1_000, auditdRunning: true },
        kind: 'kmsg',
      },
      {
        name: 'auditd registered: its log',
        facts: { auditPid: 612, auditComm: 'auditd' },
        kind: 'audit',
        reason: /^the kernel sends audit records to auditd \(pid 612\)$/,
      },
      {
        name: 'another daemon registered: still not kmsg',
        facts: { auditPid: 77 },
        kind: 'audit',
        reason: /the audit daemon \(pid 77\)/,
      },
      {
        name: 'kernel not asked, auditd runs',
        facts: { auditPid: undefined, auditdRunning: true },
        kind: 'audit',
        reason: /auditd runs/,
      },
      {
        name: 'kernel not asked, log growing',
        facts: { auditPid: undefined, auditLogMtimeMs: NOW - 5_000 },
        kind: 'audit',
        reason: /being written to/,
      },
      {
        name: 'kernel not asked, stale log: kmsg',
        facts: { auditPid: undefined, auditLogMtimeMs: NOW - RECENT_AUDIT_LOG_MS - 1 },
        kind: 'kmsg',
      },
      { name: 'kernel not asked, no log: kmsg', facts: { auditPid: undefined }, kind: 'kmsg' },
    ];
  for (const c of cases) {
    const source = chooseDenialSource({ ...base, ...c.facts });
    t.equal(source.kind, c.kind, c.name);
    t.equal(source.path, c.kind === 'kmsg' ? '/dev/kmsg' : '/var/log/audit/audit.log', `${c.name}: path`);
    if (c.reason !== undefined && source.kind === 'audit') t.match(source.reason, c.reason, `${c.name}: why`);
  }
});

t.test('parseAuditStatus reads the daemon pid from auditctl -s', async (t) => {
  const status =
    'enabled 1\nfailure 1\npid 612\nrate_limit 0\nbacklog_limit 8192\nlost 0\nbacklog 0\n' +
    'backlog_wait_time 60000\nbacklog_wait_time_actual 0\nloginuid_immutable 0 unlocked\n';
  t.equal(parseAuditStatus(status), 612);
  t.equal(parseAuditStatus(status.replace('pid 612', 'pid 0')), 0);
  t.equal(parseAuditStatus('garbage'), undefined);
  t.equal(parseAuditStatus('ppid 5\n'), undefined, 'only the pid line');
});

t.test('auditdLogFile reads log_file from auditd.conf', async (t) => {
  t.equal(
    auditdLogFile(
      '#\n# comment\nlocal_events = yes\nlog_file = /var/log/audit/audit.log\nlog_format = ENRICHED\n',
    ),
    '/var/log/audit/audit.log',
  );
  t.equal(auditdLogFile('log_file=/srv/audit.log\n'), '/srv/audit.log');
  t.equal(auditdLogFile('# log_file = /commented\n'), undefined);
  t.equal(auditdLogFile('max_log_file = 8\n'), undefined, 'not max_log_file');
});

t.test('liveParent copes with any command name, and calls a zombie gone', async (t) => {
  t.equal(liveParent('4242 (sh) S 4200 4242 4200 0 -1 4194560 ...'), 4200);
  t.equal(liveParent('4242 (my (odd) name) R 17 4242 ...'), 17);
  t.equal(liveParent('4242 (a b) D 1 0 0'), 1);
  t.equal(liveParent('4242 (perl) Z 1 4242 4200 0'), undefined, 'exited, waiting for init to reap it');
  t.equal(liveParent('no parens'), undefined);
});

t.test('ownedByCommand: the command and what it started, never what ran before', async (t) => {
  // 100 ran before; the command is 500; 501 its child, 502 a grandchild, 503 started by 100 meanwhile,
  // 504 and 505 gone (lived a moment), 506 a child of a gone process's sibling chain through init.
  const parents = new Map<number, number>([
    [100, 1],
    [501, 500],
    [502, 501],
    [503, 100],
    [506, 1],
  ]);
  const facts = { commandPid: 500, preexisting: new Set([1, 100]), parentOf: (p: number) => parents.get(p) };
  const cases = [
    { pid: 500, owned: true, why: 'the command itself (gone by now)' },
    { pid: 501, owned: true, why: 'its child, still alive' },
    { pid: 502, owned: true, why: 'its grandchild' },
    { pid: 504, owned: true, why: 'born since and gone: a short-lived child' },
    { pid: 100, owned: false, why: 'alive before the command started' },
    { pid: 503, owned: false, why: 'born since, but another process started it' },
    { pid: 506, owned: false, why: 'alive under init: not provably the command' },
  ];
  for (const c of cases) t.equal(ownedByCommand(c.pid, facts), c.owned, `${c.pid}: ${c.why}`);
  const loop = { commandPid: 9, preexisting: new Set<number>(), parentOf: (p: number) => p + 1 };
  t.equal(ownedByCommand(1000, loop), false, 'a chain deeper than any real one is not followed forever');
});

t.test('denialOf reads kmsg and auditd lines alike', async (t) => {
  const kmsg =
    'audit: type=1326 audit(1795309978.860:1048): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=23505 ' +
    'comm="mkdir" exe="/usr/bin/mkdir" sig=0 arch=c000003e syscall=83 compat=0 ip=0x7fbff5237b1d code=0x50001';
  const expected = {
    pid: 23505,
    comm: 'mkdir',
    exe: '/usr/bin/mkdir',
    auditArch: 'c000003e',
    syscall: 83,
    compat: false,
    code: 0x50001,
  };
  t.same(denialOf(kmsg), expected, 'kmsg');
  const auditd = `type=SECCOMP msg=audit(1795309987.876:1076): ${kmsg.slice(kmsg.indexOf('auid='))}\x1dAUID="unset" UID="root" ARCH=x86_64 SYSCALL=mkdir`;
  t.same(denialOf(auditd), expected, 'auditd ENRICHED');
  t.same(denialOf(`node=dev-node ${auditd}`), expected, 'auditd with node=');
  t.match(denialOf(kmsg.replace('arch=c000003e', 'arch=40000003'))?.compat, true, 'i386 on x86_64: compat');
  t.equal(denialOf("type=USER msg=audit(1.2:3): pid=1 uid=0 msg='seccompctl-run-1-ab'"), undefined);
  t.equal(denialOf('type=SECCOMP msg=audit(1.2:3): pid=x'), undefined, 'malformed');
});
