// Pods as a node's daemon sees them: a Deployment's pod with an init container, an app and a sidecar, the
// labels, annotations, probes, env and volumes such pods carry, and a status a kubelet would have written
// (running, with container ids). None carries an io.containers.trace-* annotation, so none is recorded.
import { createHash } from 'node:crypto';
import type { V1Node, V1Pod } from '@kubernetes/client-node';

/** Taint on the bench's node: nothing is scheduled there (no kubelet runs pods for it). */
export const NO_KUBELET_TAINT = 'bench.spo.x-k8s.io/no-kubelet';

const hex = (seed: string, length = 64) => {
  let out = '';
  for (let i = 0; out.length < length; i++) out += createHash('sha256').update(`${seed}/${i}`).digest('hex');
  return out.slice(0, length);
};

/** A Node object for a name no kubelet serves: unschedulable and tainted, so only pods bound to it land there. */
export function benchNode(name: string): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' },
    },
    spec: { unschedulable: true, taints: [{ key: NO_KUBELET_TAINT, effect: 'NoSchedule' }] },
  };
}

/** Pod `i` of 1,000 in `namespace`, bound to `node`; every fourth runs under one of the bench's profiles. */
export function benchPod(i: number, namespace: string, node: string, profile: string | undefined): V1Pod {
  const app = `shop-${i % 50}`;
  const hash = hex(`${app}/template`, 10);
  const name = `${app}-${hash}-${String(i).padStart(5, '0')}`;
  const config = hex(`${app}/config`);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: {
        'app.kubernetes.io/name': app,
        'app.kubernetes.io/instance': `${app}-prod`,
        'app.kubernetes.io/version': '1.4.2',
        'app.kubernetes.io/component': 'backend',
        'app.kubernetes.io/part-of': 'shop',
        'pod-template-hash': hash,
        tier: 'backend',
      },
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9102',
        'prometheus.io/path': '/metrics',
        'kubectl.kubernetes.io/default-container': 'app',
        'kubectl.kubernetes.io/restartedAt': '2026-11-20T09:14:03Z',
        'checksum/config': config,
        'cluster-autoscaler.kubernetes.io/safe-to-evict': 'true',
      },
    },
    spec: {
      nodeName: node,
      // The node has no kubelet, so it turns NotReady and then unreachable: the pods stay bound to it.
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
        { key: NO_KUBELET_TAINT, operator: 'Exists', effect: 'NoSchedule' },
      ],
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        fsGroup: 10001,
        seccompProfile:
          profile !== undefined
            ? { type: 'Localhost', localhostProfile: `operator/${namespace}/${profile}.json` }
            : { type: 'RuntimeDefault' },
      },
      initContainers: [
        {
          name: 'migrate',
          image: `registry.example.com/shop/${app}-migrate:1.4.2`,
          args: ['--database-url=$(DATABASE_URL)', '--lock-timeout=30s'],
          env: [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: `${app}-db`, key: 'url' } } }],
          resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '64Mi' } },
        },
      ],
      containers: [
        {
          name: 'app',
          image: `registry.example.com/shop/${app}:1.4.2`,
          args: ['serve', '--listen=:8080', '--metrics=:9102', '--log-format=json'],
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9102, protocol: 'TCP' },
          ],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: `${app}-db`, key: 'url' } } },
            { name: 'CACHE_TTL', value: '300s' },
            { name: 'GOMAXPROCS', value: '2' },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
          readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 },
          volumeMounts: [
            { name: 'config', mountPath: '/etc/shop', readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
          ],
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
        {
          name: 'proxy',
          image: 'registry.example.com/mesh/proxy:2.9.0',
          args: ['proxy', 'sidecar', '--concurrency=1'],
          ports: [{ name: 'proxy', containerPort: 15001, protocol: 'TCP' }],
          resources: { requests: { cpu: '20m', memory: '48Mi' }, limits: { memory: '96Mi' } },
          readinessProbe: { httpGet: { path: '/ready', port: 15021 }, periodSeconds: 15 },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: `${app}-config` } },
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      ],
    },
  };
}

/** The status a kubelet would have written for `pod` (its init container done, both containers running). */
export function runningStatus(pod: V1Pod, i: number): V1Pod['status'] {
  const at = new Date(Date.UTC(2026, 10, 20, 9, 14, 3 + (i % 60)));
  const ip = `10.244.${Math.floor(i / 250)}.${(i % 250) + 2}`;
  const podName = pod.metadata?.name ?? '';
  const image = (c: { image?: string }) => c.image ?? '';
  const cond = (type: string) => ({ type, status: 'True', lastTransitionTime: at });
  return {
    phase: 'Running',
    conditions: [
      cond('PodReadyToStartContainers'),
      cond('Initialized'),
      cond('Ready'),
      cond('ContainersReady'),
      cond('PodScheduled'),
    ],
    hostIP: '192.0.2.200',
    hostIPs: [{ ip: '192.0.2.200' }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime: at,
    qosClass: 'Burstable',
    initContainerStatuses: (pod.spec?.initContainers ?? []).map((c) => ({
      name: c.name,
      image: image(c),
      imageID: `${image(c)}@sha256:${hex(image(c))}`,
      containerID: `containerd://${hex(`${podName}/${c.name}`)}`,
      ready: true,
      restartCount: 0,
      started: false,
      state: {
        terminated: { exitCode: 0, reason: 'Completed', startedAt: at, finishedAt: at },
      },
      lastState: {},
    })),
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: image(c),
      imageID: `${image(c)}@sha256:${hex(image(c))}`,
      containerID: `containerd://${hex(`${podName}/${c.name}`)}`,
      ready: true,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: at } },
      lastState: {},
    })),
  };
}
