import { readFileSync } from 'node:fs';
import type { V1Container, V1DaemonSet } from '@kubernetes/client-node';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import t, { type Test } from 'tap';
import { parse } from 'yaml';
import { findBaseManifest, parseBaseDaemonSet } from '../../../src/manager/spod-base.js';
import {
  CONFIG_HASH_ANNOTATION,
  configHash,
  covers,
  DEFAULT_SPOD_CONFIG,
  ENRICHER_SOCKET,
  isPlainAbsolutePath,
  RECORDER_SOCKET,
  renderDaemonSet,
  type SpodConfig,
  spodConfig,
} from '../../../src/manager/spod-render.js';

const NS = 'security-profiles-operator';
const IMAGE = 'registry.example/spo:1.2.3';
const manifest = findBaseManifest();
if (manifest === undefined) throw new Error('manifests/base/daemon-daemonset.yaml not found');
const parsed = parseBaseDaemonSet(readFileSync(manifest, 'utf8'), NS, IMAGE);
const base = (): V1DaemonSet => structuredClone(parsed);
const baseVolumes = (base().spec?.template.spec?.volumes ?? []).map((v) => v.name);
const baseDaemonArgs = base().spec?.template.spec?.containers[0]?.args ?? [];

const render = (spec: Parameters<typeof spodConfig>[0], from: V1DaemonSet = base()) =>
  renderDaemonSet(spodConfig(spec), from);
const pod = (ds: V1DaemonSet) => ds.spec?.template.spec ?? { containers: [] };
const container = (ds: V1DaemonSet, name: string): V1Container | undefined =>
  pod(ds).containers.find((c) => c.name === name);
const names = (ds: V1DaemonSet) => pod(ds).containers.map((c) => c.name);
const volume = (ds: V1DaemonSet, name: string) => pod(ds).volumes?.find((v) => v.name === name);

t.test('the base is the manifest DaemonSet, in the operator namespace, with the image', async (t) => {
  const ds = base();
  t.equal(ds.metadata?.name, 'spod');
  t.equal(ds.metadata?.namespace, NS);
  t.same(names(ds), ['daemon']);
  t.equal(container(ds, 'daemon')?.image, IMAGE);
  t.throws(() => parseBaseDaemonSet('kind: Service\nmetadata: {name: spod}\n', NS, IMAGE), {
    code: 'ERR_CONFIG',
  });
});

// Each case is one of the seed's `kubectl patch spod spod --type=merge -p ...` commands, applied to the
// defaults, and what the DaemonSet must then look like.
interface Case {
  name: string;
  patch: Parameters<typeof spodConfig>[0];
  check: (t: Test, ds: V1DaemonSet) => void;
}

const cases: Case[] = [
  {
    name: 'defaults: the daemon alone, no host PID, no extra volume',
    patch: {},
    check(t, ds) {
      t.same(names(ds), ['daemon']);
      t.same(container(ds, 'daemon')?.args, [...baseDaemonArgs, '--verbosity=0']);
      t.equal(pod(ds).hostPID, false);
      t.same(
        pod(ds).volumes?.map((v) => v.name),
        baseVolumes,
      );
      t.match(ds.spec?.template.metadata?.annotations, { [CONFIG_HASH_ANNOTATION]: /^[0-9a-f]{16}$/ });
    },
  },
  {
    name: 'Set logging verbosity: {"spec":{"verbosity":1}}',
    patch: { verbosity: 1 },
    check(t, ds) {
      t.same(container(ds, 'daemon')?.args, [...baseDaemonArgs, '--verbosity=1']);
      t.same(names(ds), ['daemon']);
    },
  },
  {
    name: 'eBPF recorder: {"spec":{"enableBpfRecorder":true}}',
    patch: { enableBpfRecorder: true },
    check(t, ds) {
      t.same(names(ds), ['daemon', 'bpf-recorder']);
      t.equal(pod(ds).hostPID, true);
      const recorder = container(ds, 'bpf-recorder');
      t.equal(recorder?.image, IMAGE, 'one image for every role');
      t.same(recorder?.args, [
        'recorder',
        `--socket=${RECORDER_SOCKET}`,
        '--state-dir=/var/lib/seccompctl/recorder',
        '--bpf-pin-dir=/sys/fs/bpf/seccompctl-recorder',
        '--verbosity=0',
      ]);
      t.same(recorder?.securityContext, {
        runAsUser: 0,
        runAsNonRoot: false,
        privileged: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'], add: ['BPF', 'PERFMON', 'SYS_RESOURCE', 'SYS_ADMIN'] },
      });
      t.match(recorder?.env, [
        { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'SPO_PROC_BASE', value: '/host/proc' },
        { name: 'SPO_CGROUP_BASE', value: '/host/sys/fs/cgroup' },
        { name: 'SPO_CRI_ENDPOINT', value: 'unix:///run/containerd/containerd.sock' },
      ]);
      const daemon = container(ds, 'daemon');
      t.same(daemon?.args, [...baseDaemonArgs, '--verbosity=0', `--recorder-socket=${RECORDER_SOCKET}`]);
      t.ok(
        daemon?.volumeMounts?.some((m) => m.name === 'spod-sockets'),
        'the daemon reaches the socket',
      );
      t.same(volume(ds, 'spod-sockets'), { name: 'spod-sockets', emptyDir: {} });
      t.same(volume(ds, 'host-proc')?.hostPath, { path: '/proc', type: 'Directory' });
      t.same(volume(ds, 'cri-socket')?.hostPath, { path: '/run/containerd/containerd.sock', type: 'Socket' });
      t.same(volume(ds, 'host-cgroup')?.hostPath, { path: '/sys/fs/cgroup', type: 'Directory' });
      t.same(volume(ds, 'recorder-state')?.hostPath, {
        path: '/var/lib/seccompctl/recorder',
        type: 'DirectoryOrCreate',
      });
      t.same(volume(ds, 'host-bpffs')?.hostPath, { path: '/sys/fs/bpf', type: 'Directory' });
      t.same(
        recorder?.volumeMounts?.find((m) => m.name === 'host-bpffs'),
        { name: 'host-bpffs', mountPath: '/sys/fs/bpf', mountPropagation: 'HostToContainer' },
        'the pins live on the host, so a restarted container finds them',
      );
      t.notOk(volume(ds, 'host-logs'), 'the recorder reads no logs');
      for (const m of recorder?.volumeMounts ?? []) {
        if (['host-proc', 'host-cgroup', 'cri-socket'].includes(m.name)) t.equal(m.readOnly, true, m.name);
      }
    },
  },
  {
    name: 'Using the log enricher: {"spec":{"enableLogEnricher":true}}',
    patch: { enableLogEnricher: true },
    check(t, ds) {
      t.same(names(ds), ['daemon', 'log-enricher']);
      t.equal(pod(ds).hostPID, true);
      const enricher = container(ds, 'log-enricher');
      t.same(enricher?.args, [
        'enricher',
        '--socket=/var/run/seccomp-profiles-operator/enricher.sock',
        '--port=8086',
        '--verbosity=0',
      ]);
      t.same(enricher?.securityContext?.capabilities, { drop: ['ALL'] }, 'no capability at all');
      t.equal(enricher?.securityContext?.privileged, false);
      t.match(enricher?.volumeMounts, [
        { name: 'spod-sockets' },
        { name: 'host-logs', mountPath: '/var/log', readOnly: true },
        { name: 'host-proc', mountPath: '/host/proc', readOnly: true },
        { name: 'cri-socket', readOnly: true },
      ]);
      t.ok(enricher?.readinessProbe && enricher.livenessProbe && enricher.resources?.limits);
      t.same(
        container(ds, 'daemon')?.args,
        [...baseDaemonArgs, '--verbosity=0', `--enricher-socket=${ENRICHER_SOCKET}`],
        'the daemon collects logs recordings from the enricher; no recorder socket',
      );
      t.notOk(volume(ds, 'recorder-state'));
      t.notOk(volume(ds, 'host-bpffs'), 'no bpffs without the recorder');
      t.same(volume(ds, 'host-logs')?.hostPath, { path: '/var/log', type: 'Directory' });
    },
  },
  {
    name: 'Enable CPU and memory profiling: {"spec":{"enableProfiling":true}}, each container its own port',
    patch: { enableProfiling: true, enableBpfRecorder: true, enableLogEnricher: true },
    check(t, ds) {
      t.same(names(ds), ['daemon', 'bpf-recorder', 'log-enricher']);
      const tail = (c: string) => container(ds, c)?.args?.filter((a) => a.includes('profiling'));
      t.same(tail('daemon'), ['--enable-profiling', '--profiling-port=6060']);
      t.same(tail('log-enricher'), ['--enable-profiling', '--profiling-port=6061']);
      t.same(tail('bpf-recorder'), ['--enable-profiling', '--profiling-port=6062']);
      t.same(
        container(ds, 'daemon')?.args?.filter((a) => a.includes('-socket=')),
        [`--recorder-socket=${RECORDER_SOCKET}`, `--enricher-socket=${ENRICHER_SOCKET}`],
        'the daemon reaches both node roles',
      );
    },
  },
  {
    name: 'profiling alone touches the daemon only',
    patch: { enableProfiling: true },
    check(t, ds) {
      t.same(names(ds), ['daemon']);
      t.same(container(ds, 'daemon')?.args, [
        ...baseDaemonArgs,
        '--verbosity=0',
        '--enable-profiling',
        '--profiling-port=6060',
      ]);
    },
  },
  {
    name: 'custom /proc: {"spec":{"hostProcVolumePath":"/my-proc"}} mounts it for the recorder and enricher',
    patch: { hostProcVolumePath: '/my-proc', enableBpfRecorder: true, enableLogEnricher: true },
    check(t, ds) {
      t.same(volume(ds, 'host-proc')?.hostPath, { path: '/my-proc', type: 'Directory' });
      for (const c of ['bpf-recorder', 'log-enricher']) {
        t.ok(
          container(ds, c)?.volumeMounts?.some((m) => m.name === 'host-proc' && m.mountPath === '/host/proc'),
          `${c} mounts the custom /proc at /host/proc`,
        );
        t.match(container(ds, c)?.env, [
          { name: 'NODE_NAME' },
          { name: 'SPO_PROC_BASE', value: '/host/proc' },
        ]);
      }
    },
  },
  {
    name: 'custom /proc without recorder or enricher: nothing reads it, nothing is mounted',
    patch: { hostProcVolumePath: '/my-proc' },
    check(t, ds) {
      t.notOk(volume(ds, 'host-proc'));
      t.equal(pod(ds).hostPID, false);
    },
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => c.check(t, render(c.patch)));
}

const configs: SpodConfig[] = [];
for (const verbosity of [0, 1] as const)
  for (const enableBpfRecorder of [false, true])
    for (const enableLogEnricher of [false, true])
      for (const enableProfiling of [false, true])
        for (const hostProcVolumePath of ['/proc', '/my-proc'])
          configs.push({
            verbosity,
            enableBpfRecorder,
            enableLogEnricher,
            enableProfiling,
            hostProcVolumePath,
          });

t.test('rendering a rendered DaemonSet depends only on the new configuration', async (t) => {
  let checked = 0;
  for (const before of configs) {
    const live = renderDaemonSet(before, base());
    for (const after of configs) {
      const again = renderDaemonSet(after, live);
      if (JSON.stringify(again) !== JSON.stringify(renderDaemonSet(after, base()))) {
        t.fail(`${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
      }
      checked++;
    }
  }
  t.equal(checked, configs.length ** 2);
});

t.test('deterministic: same input, same bytes; every field changes the hash', async (t) => {
  t.equal(
    JSON.stringify(render({ enableBpfRecorder: true })),
    JSON.stringify(render({ enableBpfRecorder: true })),
  );
  const hashes = new Set(configs.map(configHash));
  t.equal(hashes.size, configs.length, 'no two configurations share a hash');
  t.equal(configHash(spodConfig({})), configHash(DEFAULT_SPOD_CONFIG));
});

t.test('covers: server defaults and dropped empty values do not count, real changes do', async (t) => {
  const desired = render({ enableBpfRecorder: true });
  // What the apiserver hands back: defaults filled in, `false` and empty values dropped.
  const live = JSON.parse(JSON.stringify(desired)) as V1DaemonSet;
  const spec = pod(live);
  delete (spec as { hostPID?: boolean }).hostPID;
  spec.hostPID = true;
  spec.dnsPolicy = 'ClusterFirst';
  for (const c of spec.containers) {
    c.terminationMessagePath = '/dev/termination-log';
    delete c.securityContext?.privileged;
    for (const p of c.ports ?? []) p.protocol = 'TCP';
  }
  (live.metadata as Record<string, unknown>)['resourceVersion'] = '42';
  t.ok(covers(live, desired), 'defaults only: no update');
  t.notOk(covers(live, render({ enableBpfRecorder: true, verbosity: 1 })), 'changed args');
  t.notOk(covers(live, render({})), 'a container to remove');
  t.notOk(covers(live, render({ enableBpfRecorder: true, enableLogEnricher: true })), 'a container to add');
  const noPid = render({});
  t.notOk(covers(JSON.parse(JSON.stringify(noPid).replace('"hostPID":false', '"hostPID":true')), noPid));
});

t.test('flags the render owns are replaced, whatever form they came in', async (t) => {
  const ds = base();
  const daemon = pod(ds).containers[0] as V1Container;
  daemon.args = [
    'daemon',
    '--verbosity',
    '1',
    '--enable-profiling',
    '--port=8085',
    '--profiling-port=7000',
    '--recorder-socket',
    '/tmp/x.sock',
    '--enricher-socket=/tmp/y.sock',
  ];
  t.same(container(render({}, ds), 'daemon')?.args, ['daemon', '--port=8085', '--verbosity=0']);
});

t.test('the OpenShift overlay survives and configures the node containers too', async (t) => {
  const ops = parse(
    readFileSync(new URL('../../../manifests/openshift/daemonset-crio.yaml', import.meta.url), 'utf8'),
  ) as Operation[];
  const patched = fastJsonPatch.applyPatch(base(), ops, false, false).newDocument;
  const ds = render({ enableBpfRecorder: true, enableLogEnricher: true }, patched);
  const recorder = container(ds, 'bpf-recorder');
  t.match(recorder?.env, [
    { name: 'NODE_NAME' },
    {},
    {},
    { name: 'SPO_CRI_ENDPOINT', value: 'unix:///run/crio/crio.sock' },
  ]);
  t.same(recorder?.securityContext?.seLinuxOptions, { type: 'spc_t' });
  t.same(container(ds, 'log-enricher')?.securityContext?.seLinuxOptions, { type: 'spc_t' });
  t.notOk(volume(ds, 'cri-socket'), "the overlay's socket volume is reused");
  t.ok(recorder?.volumeMounts?.some((m) => m.name === 'crio-sock' && m.mountPath === '/run/crio/crio.sock'));
  t.match(
    container(ds, 'daemon')?.env,
    [{}, {}, { name: 'NODE_OPTIONS' }, { name: 'SPO_CRI_ENDPOINT' }],
    'the daemon keeps its overlay env',
  );
});

t.test('a DaemonSet without the daemon container cannot be rendered, and says how to fix it', async (t) => {
  const ds = base();
  pod(ds).containers = [{ name: 'other', image: 'x' }];
  t.throws(() => render({}, ds), { code: 'ERR_CONFIG', message: /no container "daemon".*manifests\/base/ });
});

t.test('spodConfig: defaults, and the schema rules again', async (t) => {
  t.same(spodConfig(undefined), DEFAULT_SPOD_CONFIG);
  t.same(spodConfig({ verbosity: 1, hostProcVolumePath: '/host/proc' }), {
    ...DEFAULT_SPOD_CONFIG,
    verbosity: 1,
    hostProcVolumePath: '/host/proc',
  });
  t.throws(() => spodConfig({ verbosity: 5 }), { code: 'ERR_CONFIG', message: /verbosity must be 0 or 1/ });
  t.throws(() => spodConfig({ hostProcVolumePath: '/proc/../etc' }), {
    code: 'ERR_CONFIG',
    message: /without '\.' or '\.\.' segments/,
  });
});

const paths: Array<[string, boolean]> = [
  ['/proc', true],
  ['/my-proc', true],
  ['/host/proc', true],
  ['/', true],
  ['/a/.hidden/b', true],
  ['/a/..b', true],
  ['proc', false],
  ['', false],
  ['/proc/../etc', false],
  ['/..', false],
  ['/./proc', false],
  ['/proc/.', false],
  ['/my proc', false],
  ['/proc;rm', false],
  ['/proc\n', false],
  [`/${'a'.repeat(1100)}`, false],
];
for (const [path, ok] of paths) {
  t.test(`isPlainAbsolutePath(${JSON.stringify(path.slice(0, 20))}) is ${ok}`, async (t) => {
    t.equal(isPlainAbsolutePath(path), ok);
  });
}
