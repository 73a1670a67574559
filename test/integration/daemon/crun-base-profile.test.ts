// The built-in crun base, as base-profile.test.ts does for runc: the pause binary's own syscalls are not enough
// for crun to start it, the same profile with `baseProfileName: crun-v1.8.1` is. Pods run under crun through the
// RuntimeClass "crun" that `scripts/dev up` makes when crun is installed (test/env/runtime-classes.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, NodeV1Api, type V1Pod } from '@kubernetes/client-node';
import t from 'tap';
import { findOnPath } from '../../env/layout.js';
import { BUILTIN_BASES, resolveBuiltinBase } from '../../../src/profiles/builtin-bases.js';
import {
  createNamespace,
  createPodAndWait,
  deleteNamespace,
  deletePodAndWait,
  requireCluster,
  waitFor,
} from '../../helpers/cluster.js';
import { bareContainerId, criClient } from '../../helpers/cri.js';
import { requires } from '../../helpers/prereq.js';
import { startRole } from '../../helpers/role-process.js';

const GROUP = 'security-profiles-operator.x-k8s.io';
const BASE = 'crun-v1.8.1';
const RUNTIME_CLASS = 'crun';

// What test/images/pause.c calls from its execve on, plus its SIGTERM handler's needs (as in base-profile.test.ts).
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

const crunMissing = findOnPath('crun') === undefined ? 'crun not installed: apt-get install crun' : undefined;

await t.test('crun base', requires(t, crunMissing), async (t) => {
  const cluster = await requireCluster(t);
  if (cluster === undefined) return;
  const hasClass = await cluster.kc
    .makeApiClient(NodeV1Api)
    .readRuntimeClass({ name: RUNTIME_CLASS })
    .then(
      () => true,
      () => false,
    );
  if (!hasClass) {
    t.fail(
      `no RuntimeClass ${RUNTIME_CLASS}: run scripts/dev up (crun is installed, the cluster predates it)`,
    );
    return;
  }
  t.ok(BUILTIN_BASES.has(BASE), `${BASE} is a shipped built-in base`);
  const custom = cluster.kc.makeApiClient(CustomObjectsApi);
  const namespace = await createNamespace(cluster, 'crun-base');
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
  const pauseUnder = (profile: string, name = profile, securityContext: object = {}): V1Pod => ({
    metadata: { name, namespace },
    spec: {
      runtimeClassName: RUNTIME_CLASS,
      containers: [
        {
          name: 'c',
          image: cluster.images.pause,
          securityContext: {
            ...securityContext,
            seccompProfile: { type: 'Localhost', localhostProfile: `operator/${namespace}/${profile}.json` },
          },
        },
      ],
    },
  });
  /** The runtime binary containerd's shim was told to use for the pod's container (CRI verbose info). */
  const runtimeBinaryOf = async (pod: V1Pod): Promise<string> => {
    const cri = criClient();
    try {
      const id = bareContainerId(pod.status?.containerStatuses?.[0]?.containerID ?? '');
      const info = (await cri.containerStatus(id, true)).info.info;
      const parsed = JSON.parse(info ?? '{}') as { runtimeOptions?: { binary_name?: string } };
      return parsed.runtimeOptions?.binary_name ?? '';
    } finally {
      cri.close();
    }
  };
  const own = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ action: 'SCMP_ACT_ALLOW', names: PAUSE_SYSCALLS }],
  };

  // crun, like runc, installs the filter at another point when no_new_privs is off; non-root adds setuid/setgid.
  const shapes = [
    { shape: 'default', securityContext: {} },
    { shape: 'no-new-privs', securityContext: { allowPrivilegeEscalation: false } },
    { shape: 'non-root', securityContext: { runAsUser: 65534, runAsGroup: 65534 } },
  ];
  await t.test('the pause binary runs under crun with its own syscalls plus the crun base', async (t) => {
    const written = await install('with-base', { ...own, baseProfileName: BASE });
    const allowed = written.syscalls?.flatMap((r) => r.names) ?? [];
    t.ok(allowed.includes('execve') && allowed.includes('pause'), 'the file has the base and the app rules');
    for (const { shape, securityContext } of shapes) {
      const pod = await createPodAndWait(
        cluster,
        pauseUnder('with-base', `with-base-${shape}`, securityContext),
      );
      t.equal(pod.status?.phase, 'Running', shape);
      t.match(await runtimeBinaryOf(pod), /crun/, `${shape}: containerd ran it through crun`);
      await deletePodAndWait(cluster, `with-base-${shape}`, namespace);
    }
  });

  await t.test('another crun version resolves to the shipped crun base, with a warning', async (t) => {
    const got = resolveBuiltinBase('crun-v1.0.0');
    t.equal(got?.name, BASE);
    t.match(got?.warning, /"crun-v1\.0\.0".*"crun-v1\.8\.1"/);
    const written = await install('other-version', { ...own, baseProfileName: 'crun-v1.0.0' });
    t.ok(
      written.syscalls?.flatMap((r) => r.names).includes('execve'),
      'the base was layered under the profile',
    );
  });

  await t.test('without the base the same container cannot start under crun', async (t) => {
    await install('without-base', own);
    const failed = await createPodAndWait(cluster, pauseUnder('without-base'), 60_000).then(
      () => undefined,
      (e: Error) => e,
    );
    t.match(failed?.message, /CreateContainerError|RunContainerError|CrashLoopBackOff|StartError|Failed/);
    t.comment(failed?.message ?? 'the container started');
    await deletePodAndWait(cluster, 'without-base', namespace);
  });
});
