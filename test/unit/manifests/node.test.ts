import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseAllDocuments } from 'yaml';

const dir = new URL('../../../manifests/', import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML
type Doc = Record<string, any>;
const load = (file: string): Doc[] =>
  parseAllDocuments(readFileSync(new URL(file, dir), 'utf8')).map((d) => d.toJS() as Doc);

t.test('the node DaemonSet holds no capability and mounts only the seccomp root', async (t) => {
  const [ds] = load('base/daemon-daemonset.yaml');
  const spec = ds?.['spec'].template.spec;
  t.equal(spec.serviceAccountName, 'spo-daemon');
  t.notOk(spec.hostPID, 'no host PID for the daemon alone');
  const [daemon] = spec.containers;
  t.match(daemon.securityContext, {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  });
  t.same(
    spec.volumes.filter((v: Doc) => v['hostPath'] !== undefined).map((v: Doc) => v['hostPath'].path),
    ['/var/lib/kubelet/seccomp'],
  );
  t.ok(daemon.livenessProbe && daemon.readinessProbe && daemon.resources?.limits);
});

t.test('the daemon serves its metrics over HTTPS with the manager-issued Secret', async (t) => {
  const [ds, svc] = load('base/daemon-daemonset.yaml');
  const spec = ds?.['spec'].template.spec;
  const [daemon] = spec.containers;
  const volume = spec.volumes.find((v: Doc) => v['secret']?.secretName === 'metrics-server-cert');
  t.ok(volume, 'Secret metrics-server-cert mounted in every pod');
  t.equal(volume.secret.defaultMode, 0o400);
  const mount = daemon.volumeMounts.find((m: Doc) => m['name'] === volume.name);
  t.match(mount, { readOnly: true });
  t.ok(daemon.args.includes(`--tls-cert-dir=${mount.mountPath}`), 'the daemon serves with the mounted pair');
  t.equal(daemon.livenessProbe.httpGet.scheme, 'HTTPS');
  t.equal(daemon.readinessProbe.httpGet.scheme, 'HTTPS');
  t.match(svc, { kind: 'Service', metadata: { name: 'metrics' } });
  t.same(svc?.['spec'].ports, [{ name: 'https', port: 443, targetPort: 'metrics' }]);
  const manager = load('base/rbac-manager.yaml').find((d) => d['kind'] === 'Role');
  t.ok(
    manager?.['rules'].some(
      (r: Doc) => r['resourceNames']?.includes('metrics-server-cert') && r['verbs'].includes('update'),
    ),
    'the manager may keep the Secret up to date',
  );
});

t.test('the OpenShift SCC allows what the node roles use and nothing more', async (t) => {
  const [scc] = load('openshift/scc.yaml');
  t.equal(scc?.['allowPrivilegedContainer'], false);
  t.equal(scc?.['allowHostNetwork'], false, 'the recorder needs no host network');
  t.equal(scc?.['allowHostPID'], true);
  t.same(scc?.['allowedCapabilities'], ['BPF', 'PERFMON', 'SYS_RESOURCE', 'SYS_ADMIN']);
  const bindings = load('openshift/rbac-scc.yaml');
  t.match(bindings[0], { rules: [{ resourceNames: ['seccomp-profiles-operator-node'], verbs: ['use'] }] });
  t.match(bindings[1], { subjects: [{ name: 'spo-daemon' }] });
});

t.test('metrics readers: the seed ClusterRole spo-metrics-client', async (t) => {
  const docs = load('base/rbac-daemon.yaml');
  const role = docs.find((d) => d['kind'] === 'ClusterRole' && d['metadata'].name === 'spo-metrics-client');
  t.same(role?.['rules'], [{ nonResourceURLs: ['/metrics', '/metrics-spod'], verbs: ['get'] }]);
});
