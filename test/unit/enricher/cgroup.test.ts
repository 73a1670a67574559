import t from 'tap';
import { containerIdFromCgroupPath, containerIdFromProcCgroup } from '../../../src/enricher/cgroup.js';

const ID = '2905e181d71c17cb66e975af76b6083a209323cd6d4f310b32f6c1d297697f35';
const OTHER = 'a'.repeat(64);

t.test('paths', async (t) => {
  const cases: [string, string, string | undefined][] = [
    [
      'containerd cgroupfs (this dev node)',
      `/spo-dev/kubepods/besteffort/podaf9b1c57-6669-4461-9a84-ac8d121d3724/${ID}`,
      ID,
    ],
    ['containerd cgroupfs v1 without prefix', `/kubepods/burstable/pod1b2c/${ID}`, ID],
    [
      'containerd systemd v2',
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1b2c_3d4e.slice/cri-containerd-${ID}.scope`,
      ID,
    ],
    [
      'CRI-O systemd',
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c.slice/crio-${ID}.scope`,
      ID,
    ],
    ['CRI-O systemd, no kubepods.slice prefix', `/kubepods-pod1b2c.slice/crio-${ID}.scope`, ID],
    [
      'CRI-O with a sub-cgroup (crun)',
      `/kubepods.slice/kubepods-pod1b2c.slice/crio-${ID}.scope/container`,
      ID,
    ],
    [
      'CRI-O conmon is not the container',
      `/kubepods.slice/kubepods-pod1b2c.slice/crio-conmon-${ID}.scope`,
      undefined,
    ],
    ['docker systemd', `/system.slice/docker-${ID}.scope`, ID],
    ['nested: the innermost id wins', `/kubepods/pod1/${OTHER}/${ID}`, ID],
    ['host process', '/user.slice/user-0.slice/session-4.scope', undefined],
    ['root', '/', undefined],
    ['63 hex digits is not an id', `/kubepods/pod1/${ID.slice(1)}`, undefined],
    ['65 hex digits is not an id', `/kubepods/pod1/${ID}0`, undefined],
  ];
  for (const [name, path, want] of cases) t.equal(containerIdFromCgroupPath(path), want, name);
});

t.test('/proc/<pid>/cgroup files', async (t) => {
  const hybrid = [
    `9:name=systemd:/spo-dev/kubepods/besteffort/podaf9b/${ID}`,
    `4:memory:/spo-dev/kubepods/besteffort/podaf9b/${ID}`,
    `0::/spo-dev/kubepods/besteffort/podaf9b/${ID}`,
    '',
  ].join('\n');
  t.equal(containerIdFromProcCgroup(hybrid), ID, 'hybrid v1+v2 (this dev node)');
  t.equal(
    containerIdFromProcCgroup(`0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-${ID}.scope\n`),
    ID,
    'v2 only',
  );
  t.equal(
    containerIdFromProcCgroup(`12:pids:/kubepods/pod1/${ID}\n11:cpu,cpuacct:/kubepods/pod1/${ID}\n0::/\n`),
    ID,
    'v1 with an empty unified line',
  );
  t.equal(containerIdFromProcCgroup('0::/user.slice/user-0.slice/session-4.scope\n'), undefined, 'host');
  t.equal(containerIdFromProcCgroup(''), undefined, 'empty (exited zombie)');
});
