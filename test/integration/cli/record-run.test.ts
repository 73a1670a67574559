import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { recorderSkip } from '../recorder/prereqs.js';
import { allowed, seccompctl, without } from './run-helpers.js';

const skip = recorderSkip();

const PERL_TCP = `
use IO::Socket::INET;
alarm 5; # a client that cannot connect must not leave the server waiting forever
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1, ReuseAddr => 1) or die "listen: $!";
my $port = $srv->sockport;
my $pid = fork() // die "fork: $!";
if ($pid == 0) {
  my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die "connect: $!";
  print $c "ping\\n";
  my $r = <$c>;
  print "client got $r";
  exit 0;
}
my $conn = $srv->accept or die "accept: $!";
my $line = <$conn>;
print $conn "pong $line";
close $conn;
waitpid($pid, 0);
exit($? >> 8);
`;

interface LoopCase {
  readonly name: string;
  readonly argv: (dir: string) => string[];
  /** a syscall the command cannot do without (alternatives by architecture: the first one recorded) */
  readonly needs: string | readonly string[];
  /** what must match between runs, when the raw output may not (timestamps, sizes) */
  readonly normalize?: (stdout: string) => string;
}

// `ls -la /` shows times and sizes that other processes change between runs; names and modes must match
const lsNames = (out: string) =>
  out
    .split('\n')
    .filter((l) => !l.startsWith('total'))
    .map((l) => {
      const f = l.split(/\s+/);
      return `${f[0]} ${f.slice(8).join(' ')}`;
    })
    .join('\n');

const CASES: readonly LoopCase[] = [
  {
    name: 'busybox applets',
    argv: (dir) => [
      'busybox',
      'sh',
      '-c',
      `set -e; busybox echo hello; busybox mkdir ${dir}/d; busybox ls ${dir}; busybox uname -s; busybox sha256sum /etc/hostname`,
    ],
    // busybox uname prints an empty line when uname(2) fails; mkdir fails loudly
    needs: ['mkdir', 'mkdirat'],
  },
  { name: 'ls -la /', argv: () => ['ls', '-la', '/'], needs: 'getdents64', normalize: lsNames },
  {
    name: 'tar of a directory',
    argv: (dir) => [
      'sh',
      '-c',
      `mkdir -p ${dir}/src/a && echo one > ${dir}/src/a/f && tar -cf ${dir}/out.tar -C ${dir}/src . && tar -tf ${dir}/out.tar | sort`,
    ],
    needs: 'getdents64',
  },
  { name: 'TCP server and client', argv: () => ['perl', '-e', PERL_TCP], needs: 'connect' },
];

for (const c of CASES) {
  t.test(`closed loop: ${c.name}`, { skip }, async (t) => {
    const dir = t.testdir();
    const profile = join(dir, 'profile.yaml');
    mkdirSync(join(dir, 'rec'), { recursive: true });
    const recorded = await seccompctl(['record', '-o', profile, '--', ...c.argv(join(dir, 'rec'))]);
    t.equal(recorded.code, 0, `record exits with the command's code: ${recorded.stderr}`);
    t.match(recorded.stderr, /exited with code 0; recorded \d+ syscalls/);
    const needs = [c.needs].flat().find((n) => allowed(profile).includes(n));
    if (needs === undefined) throw new Error(`none of ${[c.needs].flat().join(', ')} recorded`);
    t.pass(`${needs} recorded`);

    // same command, fresh directory, under the profile: same output
    mkdirSync(join(dir, 'run'), { recursive: true });
    const run = await seccompctl(['run', '--profile', profile, '--', ...c.argv(join(dir, 'run'))]);
    t.equal(run.code, 0, `runs under its own profile: ${run.stderr}`);
    const norm = c.normalize ?? ((s: string) => s);
    t.equal(
      norm(run.stdout.replaceAll(join(dir, 'run'), 'DIR')),
      norm(recorded.stdout.replaceAll(join(dir, 'rec'), 'DIR')),
      'same output',
    );
    t.not(recorded.stdout, '', 'the command wrote something');

    const cut = join(dir, `no-${needs}.json`);
    without(profile, needs, cut);
    mkdirSync(join(dir, 'cut'), { recursive: true });
    const denied = await seccompctl(['run', '--profile', cut, '--', ...c.argv(join(dir, 'cut'))]);
    t.not(denied.code, 0, 'fails without a syscall it needs');
    t.match(denied.stdout + denied.stderr, /Operation not permitted/, 'the command saw EPERM');
    t.match(
      denied.stderr,
      new RegExp(`the profile denied:\\n(.*\\n)*\\s+${needs} \\(syscall \\d+\\)`),
      `run names ${needs}`,
    );
  });
}
