import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import t from 'tap';
import { BUILTIN_BASES } from '../../../src/profiles/builtin-bases.js';
import {
  createNamespace,
  createPodAndWait,
  deleteNamespace,
  deletePodAndWait,
  requireCluster,
  waitFor,
} from '../../helpers/cluster.js';
import { startRole } from '../../helpers/role-process.js';

const GROUP = 'security-profiles-operator.x-k8s.io';
const BASE = 'runc-v1.1.5';

// What test/images/pause.c calls from its execve on, as scripts/record-runtime-base saw it (static glibc start-up,
// the three sigactions, pause), plus what its SIGTERM handler needs to stop the pod: _exit and the reaper.
const PAUSE_SYSCALLS = [
  'arch_prctl',
  'brk',
  'exit_group',
  'getpid',
  'getrandom',
  'mprotect',
  'pause',
  'prlimit64',
  'readlink',
  'rseq',
  'rt_sigaction',
  'rt_sigreturn',
  'set_robust_list',
  'set_tid_address',
  'wait4',
];

const cluster = await requireCluster(t);
if (cluster !== undefined) {
  t.ok(BUILTIN_BASES.has(BASE), `${BASE} is a shipped built-in base`);
  const custom = cluster.kc.makeApiClient(CustomObjectsApi);
  const namespace = await createNamespace(cluster, 'base');
  t.teardown(() => deleteNamespace(cluster, namespace));
  const daemon = startRole([
    'daemon',
    '--kubeconfig',
    process.env['KUBECONFIG'] ?? join(import.meta.dirname, '../../../.dev/kubeconfig'),
    '--node-name',
    cluster.nodeName,
    '--kubelet-dir',
    cluster.kubeletDir,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--insecure-metrics',
  ]);
  t.teardown(() => daemon.stop());
  await daemon.waitForLog((l) => l['msg'] === 'daemon synced');

  const file = (name: string) => join(cluster.kubeletDir, 'seccomp/operator', namespace, `${name}.json`);
  const install = async (name: string, spec: object) => {
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1beta1',
      namespace,
      plural: 'seccompprofiles',
      body: { apiVersion: `${GROUP}/v1beta1`, kind: 'SeccompProfile', metadata: { name, namespace }, spec },
    });
    await waitFor(() => existsSync(file(name)), { what: `${name} on disk` });
    return JSON.parse(readFileSync(file(name), 'utf8')) as { syscalls?: { names: string[] }[] };
  };
  const pauseUnder = (profile: string, name = profile, securityContext: object = {}) => ({
    metadata: { name, namespace },
    spec: {
      containers: [
        {
          name: 'c',
          image: cluster.images.pause,
          securityContext: {
            ...securityContext,
            seccompProfile: {
              type: 'Localhost' as const,
              localhostProfile: `operator/${namespace}/${profile}.json`,
            },
          },
        },
      ],
    },
  });
  const own = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ action: 'SCMP_ACT_ALLOW', names: PAUSE_SYSCALLS }],
  };

  // runc installs the filter earlier when no_new_privs is off, and a non-root user adds the setuid path.
  const shapes = [
    { shape: 'default', securityContext: {} },
    { shape: 'no-new-privs', securityContext: { allowPrivilegeEscalation: false } },
    { shape: 'non-root', securityContext: { runAsUser: 65534, runAsGroup: 65534 } },
  ];
  await t.test('the pause binary runs under its own syscalls plus the built-in runc base', async (t) => {
    const written = await install('with-base', { ...own, baseProfileName: BASE });
    const allowed = written.syscalls?.flatMap((r) => r.names) ?? [];
    t.ok(allowed.includes('execve') && allowed.includes('pause'), 'the file has the base and the app rules');
    for (const { shape, securityContext } of shapes) {
      const pod = await createPodAndWait(
        cluster,
        pauseUnder('with-base', `with-base-${shape}`, securityContext),
      );
      t.equal(pod.status?.phase, 'Running', shape);
      await deletePodAndWait(cluster, `with-base-${shape}`, namespace);
    }
  });

  await t.test('the seed name runc-v1.0.0 resolves to the shipped runc base', async (t) => {
    const written = await install('seed-name', { ...own, baseProfileName: 'runc-v1.0.0' });
    const allowed = written.syscalls?.flatMap((r) => r.names) ?? [];
    t.ok(allowed.includes('execve'), 'the base was layered under the profile');
  });

  await t.test('without the base the same container cannot start', async (t) => {
    await install('without-base', own);
    const failed = await createPodAndWait(cluster, pauseUnder('without-base'), 60_000).then(
      () => undefined,
      (e: Error) => e,
    );
    t.match(failed?.message, /CreateContainerError|RunContainerError|CrashLoopBackOff|StartError|Failed/);
    t.comment(failed?.message ?? 'the container started');
    await deletePodAndWait(cluster, 'without-base', namespace);
  });
}
