// The benchmark workload: a realistic 10-container pod (env, resources, mounts: ~7 KB as an AdmissionReview)
// and 1,000 bindings in its namespace, of which a few match.
import type { ProfileBinding } from '../../src/profiles/types.js';

export const NAMESPACE = 'bench';

export function benchPod(): Record<string, unknown> {
  const containers = Array.from({ length: 10 }, (_, i) => ({
    name: `app-${i}`,
    image: i % 3 === 0 ? 'nginx:1.19.1' : `registry.example.com/team/service-${i}:v${i}.2.3`,
    args: ['--port=8080', `--shard=${i}`, '--log-format=json'],
    env: Array.from({ length: 6 }, (_, j) => ({
      name: `VAR_${j}`,
      value: `value-${i}-${j}-xxxxxxxxxxxxxxxx`,
    })),
    ports: [{ name: 'http', containerPort: 8080 + i, protocol: 'TCP' }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    volumeMounts: [{ name: 'config', mountPath: '/etc/app', readOnly: true }],
    securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'bench-', namespace: NAMESPACE, labels: { app: 'bench', tier: 'backend' } },
    spec: {
      containers,
      volumes: [{ name: 'config', configMap: { name: 'app-config' } }],
      restartPolicy: 'Always',
    },
  };
}

export function benchBindings(n = 1000): ProfileBinding[] {
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'security-profiles-operator.x-k8s.io/v1alpha1',
    kind: 'ProfileBinding',
    metadata: { name: `binding-${String(i).padStart(4, '0')}`, namespace: NAMESPACE },
    spec: {
      profileRef: { kind: 'SeccompProfile', name: `profile-${i % 50}` },
      // Three of the pod's images are bound; the rest of the bindings name images the pod does not run.
      image:
        i === 0
          ? 'nginx:1.19.1'
          : i < 4
            ? `registry.example.com/team/service-${i}:v${i}.2.3`
            : `registry.example.com/other/img-${i}:1`,
    },
  }));
}

export const benchProfiles = Array.from({ length: 50 }, (_, i) => `profile-${i}`);

export function benchReview(pod = benchPod()): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'b1c2d3e4-0000-4000-8000-000000000001',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: NAMESPACE,
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        groups: ['system:serviceaccounts', 'system:authenticated'],
      },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function summarize(samplesNs: number[]): { p50: number; p99: number; mean: number } {
  const s = [...samplesNs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}
