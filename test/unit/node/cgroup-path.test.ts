import t from 'tap';
import {
  cgroupDirCandidates,
  cgroupsPathToRelative,
  containerIdOfPath,
  containerIdOfProcCgroup,
  expandSlice,
  findKubepods,
  hierarchyRoots,
  isKubepodsDir,
  parseCgroupProcs,
  parseProcCgroup,
  procCgroupHasContainer,
} from '../../../src/node/cgroup-path.js';
import { chooseCriEndpoint } from '../../../src/node/cri-endpoint.js';
import { criContainerFacts, parseCgroupFields } from '../../../src/node/cri-info.js';
import { selinuxWarning } from '../../../src/node/selinux.js';

const ID = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

t.test('containerIdOfPath', async (t) => {
  const cases: [string, string | undefined][] = [
    [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1_2.slice/crio-${ID}.scope`, ID],
    [`/kubepods.slice/kubepods-pod1.slice/cri-containerd-${ID}.scope`, ID],
    [`/kubepods/besteffort/pod1-2/${ID}`, ID],
    [`/kubepods/pod1/crio-${ID}`, ID],
    [`/system.slice/docker-${ID}.scope`, ID],
    [`/docker/${OTHER}/kubepods/besteffort/pod1/${ID}`, ID],
    [`/kubepods.slice/kubepods-pod1.slice/crio-conmon-${ID}.scope`, undefined],
    ['/kubepods.slice/kubepods-pod1.slice', undefined],
    [`/x/${ID.slice(1)}`, undefined],
    ['/', undefined],
  ];
  for (const [path, want] of cases) t.equal(containerIdOfPath(path), want, path);
});

t.test('parseProcCgroup: v1, v2 and hybrid lines', async (t) => {
  const text = `12:pids:/kubepods/pod1/${ID}\n1:name=systemd:/kubepods/pod1/${ID}\n0::/kubepods/pod1/${ID}\n\n`;
  t.same(
    parseProcCgroup(text).map((l) => [l.hierarchy, l.controllers, l.path]),
    [
      ['12', ['pids'], `/kubepods/pod1/${ID}`],
      ['1', ['name=systemd'], `/kubepods/pod1/${ID}`],
      ['0', [], `/kubepods/pod1/${ID}`],
    ],
  );
  t.ok(procCgroupHasContainer(text, ID));
  t.notOk(procCgroupHasContainer(text, OTHER));
  t.notOk(
    procCgroupHasContainer(`0::/kubepods.slice/crio-conmon-${ID}.scope\n`, ID),
    'conmon is not the container',
  );
  t.equal(containerIdOfProcCgroup(text), ID);
  t.equal(containerIdOfProcCgroup('0::/user.slice/user-0.slice/session-1.scope\n'), undefined);
});

t.test('expandSlice and cgroupsPathToRelative', async (t) => {
  t.equal(
    expandSlice('kubepods-besteffort-pod1_2.slice'),
    'kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1_2.slice',
  );
  t.equal(expandSlice('kubepods.slice'), 'kubepods.slice');
  const cases: [string, string][] = [
    [
      `kubepods-besteffort-pod1_2.slice:crio:${ID}`,
      `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1_2.slice/crio-${ID}.scope`,
    ],
    [
      `kubepods-pod1.slice:cri-containerd:${ID}`,
      `kubepods.slice/kubepods-pod1.slice/cri-containerd-${ID}.scope`,
    ],
    [`/kubepods/besteffort/pod1/${ID}`, `kubepods/besteffort/pod1/${ID}`],
    [`/spo-dev/kubepods/besteffort/pod1/${ID}/`, `spo-dev/kubepods/besteffort/pod1/${ID}`],
  ];
  for (const [input, want] of cases) t.equal(cgroupsPathToRelative(input), want, input);
});

t.test('cgroupDirCandidates tries with and without the kubepods.slice/ prefix', async (t) => {
  t.same(cgroupDirCandidates('kubepods-besteffort.slice/x.scope', ['/cg']), [
    '/cg/kubepods-besteffort.slice/x.scope',
    '/cg/kubepods.slice/kubepods-besteffort.slice/x.scope',
  ]);
  t.same(cgroupDirCandidates('kubepods.slice/a/x.scope', ['/cg/']), [
    '/cg/kubepods.slice/a/x.scope',
    '/cg/a/x.scope',
  ]);
  t.same(hierarchyRoots('/sys/fs/cgroup', true), ['/sys/fs/cgroup']);
  t.ok(hierarchyRoots('/sys/fs/cgroup/', false).includes('/sys/fs/cgroup/pids'));
  t.same(parseCgroupProcs('12\n\n13\nx\n'), [12, 13]);
});

t.test('criContainerFacts', async (t) => {
  const cases: { name: string; info: Record<string, string>; fields?: string[]; want: object }[] = [
    {
      name: 'containerd: one JSON document under info',
      info: { info: JSON.stringify({ pid: 42, runtimeSpec: { linux: { cgroupsPath: '/kubepods/p/x' } } }) },
      want: { pid: 42, cgroupsPath: '/kubepods/p/x' },
    },
    {
      name: 'CRI-O: one key per field, pid as a string',
      info: {
        pid: '43',
        runtimeSpec: JSON.stringify({ linux: { cgroupsPath: 'kubepods-pod1.slice:crio:x' } }),
      },
      want: { pid: 43, cgroupsPath: 'kubepods-pod1.slice:crio:x' },
    },
    {
      name: 'SPO_CRI_CGROUP_FIELDS names a field the defaults do not know',
      info: { info: JSON.stringify({ cgroupDirectory: 'kubepods-besteffort.slice/x.scope' }) },
      fields: parseCgroupFields(' linux.cgroupsPath, cgroupDirectory ,'),
      want: { cgroupsPath: 'kubepods-besteffort.slice/x.scope' },
    },
    { name: 'not verbose: nothing', info: {}, want: {} },
    { name: 'pid 0 (exited) is no pid', info: { info: '{"pid":0}' }, want: {} },
  ];
  for (const c of cases) t.same(criContainerFacts(c.info, c.fields), c.want, c.name);
  t.same(parseCgroupFields(undefined), []);
});

t.test('chooseCriEndpoint', async (t) => {
  t.equal(
    chooseCriEndpoint({ SPO_CRI_ENDPOINT: 'unix:///x.sock' }, () => false),
    'unix:///x.sock',
  );
  t.equal(
    chooseCriEndpoint({ SPO_CRI_ENDPOINT: '/x.sock' }, () => false),
    'unix:///x.sock',
  );
  t.throws(() => chooseCriEndpoint({ SPO_CRI_ENDPOINT: 'tcp://x' }, () => false), { code: 'ERR_CONFIG' });
  t.equal(
    chooseCriEndpoint(
      {},
      (p) => p === '/var/run/crio/crio.sock' || p === '/run/k3s/containerd/containerd.sock',
    ),
    'unix:///var/run/crio/crio.sock',
  );
  t.equal(
    chooseCriEndpoint({}, (p) => p === '/run/crio/crio.sock'),
    'unix:///run/crio/crio.sock',
  );
  t.throws(() => chooseCriEndpoint({}, () => false), {
    code: 'ERR_CRI_ENDPOINT',
    message: /^CRI endpoint not found.*SPO_CRI_ENDPOINT/,
  });
});

t.test('selinuxWarning', async (t) => {
  t.match(selinuxWarning('1\n'), /enforcing.*spc_t.*audit2allow/);
  t.equal(selinuxWarning('0'), undefined);
  t.equal(selinuxWarning(undefined), undefined);
});

t.test('findKubepods: the pod cgroups under a hierarchy, never inside containers', async (t) => {
  const tree: Record<string, string[]> = {
    '/cg': ['system.slice', 'spo-dev', 'kubepods.slice', 'cgroup.procs'],
    '/cg/system.slice': ['a.service'],
    '/cg/spo-dev': ['kubepods'],
    '/cg/spo-dev/kubepods': ['besteffort'],
    '/cg/kubepods.slice': ['kubepods-pod1.slice'],
    [`/cg/docker/${ID}`]: ['kubepods'],
    '/cg/docker': [ID],
    '/cg/a': ['b'],
    '/cg/a/b': ['c'],
    '/cg/a/b/c': ['kubepods'],
  };
  tree['/cg']!.push('docker', 'a');
  const list = (dir: string) =>
    (tree[dir] ?? []).map((name) => ({ name, isDir: !name.startsWith('cgroup.') }));
  t.same(findKubepods('/cg', list).sort(), ['/cg/kubepods.slice', '/cg/spo-dev/kubepods']);
  t.same(findKubepods('/cg', list, 4).sort(), [
    '/cg/a/b/c/kubepods',
    '/cg/kubepods.slice',
    '/cg/spo-dev/kubepods',
  ]);
  t.same(findKubepods('/cg', list, 3, 2), [], 'bounded');
  t.ok(isKubepodsDir('kubepods'));
  t.ok(isKubepodsDir('kubepods.slice'));
  t.notOk(isKubepodsDir('kubepods-besteffort.slice'));
});
