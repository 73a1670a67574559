import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { managerConfig } from '../../../src/config/manager.js';
import { webhookConfig } from '../../../src/config/webhook.js';
import { SERVING_SECRET } from '../../../src/manager/certificates.js';
import { webhookConfiguration, WEBHOOK_SERVICE_NAME } from '../../../src/webhook/configuration.js';

// Manifests are checked by shape, so a loose record type keeps the assertions readable.
// biome-ignore lint/suspicious/noExplicitAny: YAML documents of many kinds
type Doc = Record<string, any>;

const dir = new URL('../../../manifests/base/', import.meta.url);
const load = (file: string) =>
  parseAllDocuments(readFileSync(new URL(file, dir), 'utf8')).map((d) => d.toJS() as Doc);

t.test('the manifest webhook configuration is the one the code builds', async (t) => {
  const [doc] = load('mutating-webhook-configuration.yaml');
  const ns = 'security-profiles-operator';
  t.same(
    doc,
    webhookConfiguration({ service: { namespace: ns, name: WEBHOOK_SERVICE_NAME, port: 443 } }, ns),
  );
  // Recording first and never reinvoked, binding last: a bound pod costs two webhook calls, not three.
  const [recording, binding] = (doc?.['webhooks'] ?? []) as Doc[];
  t.match(binding, {
    name: 'binding.spo.io',
    failurePolicy: 'Fail',
    sideEffects: 'None',
    timeoutSeconds: 5,
    reinvocationPolicy: 'IfNeeded',
  });
  t.match(recording, {
    name: 'recording.spo.io',
    failurePolicy: 'Ignore',
    sideEffects: 'None',
    timeoutSeconds: 5,
    reinvocationPolicy: 'Never',
  });
  for (const w of [binding, recording]) {
    const excluded = w?.['namespaceSelector'].matchExpressions.find(
      (e: { operator: string }) => e.operator === 'NotIn',
    );
    t.match(
      excluded.values,
      ['kube-system', 'kube-public', 'kube-node-lease', ns],
      `${w?.['name']}: system namespaces excluded`,
    );
  }
});

t.test('kustomization lists every manifest, the CRDs included', async (t) => {
  const k = parse(readFileSync(new URL('kustomization.yaml', dir), 'utf8')) as { resources: string[] };
  t.ok(k.resources.includes('../crds'), 'the base takes the generated CRDs');
  const crds = parse(readFileSync(new URL('../crds/kustomization.yaml', dir), 'utf8')) as {
    resources: string[];
  };
  for (const crd of [
    'seccompprofiles.yaml',
    'profilebindings.yaml',
    'profilerecordings.yaml',
    'securityprofilenodestatuses.yaml',
  ]) {
    t.ok(crds.resources.includes(crd), crd);
  }
  for (const f of k.resources.filter((r) => r.endsWith('.yaml'))) {
    t.doesNotThrow(() => readFileSync(new URL(f, dir)), `${f} exists`);
  }
  for (const f of crds.resources)
    t.doesNotThrow(() => readFileSync(new URL(`../crds/${f}`, dir)), `${f} exists`);
});

t.test('deployments: non-root, read-only root fs, no capabilities, probes, resources', async (t) => {
  for (const file of ['webhook-deployment.yaml', 'manager-deployment.yaml']) {
    const [d] = load(file);
    const spec = d?.['spec'].template.spec;
    t.equal(spec.securityContext.runAsNonRoot, true, `${file}: runAsNonRoot`);
    for (const c of spec.containers) {
      t.match(
        c.securityContext,
        { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        `${file}: ${c.name} locked down`,
      );
      t.ok(c.livenessProbe && c.readinessProbe, `${file}: probes`);
      t.ok(c.resources?.requests && c.resources?.limits, `${file}: resources`);
    }
  }
  const [webhook] = load('webhook-deployment.yaml');
  t.equal(webhook?.['spec'].replicas, 2, 'two webhook replicas');
  const [pdb] = load('webhook-pdb.yaml');
  t.same(pdb?.['spec'].selector, webhook?.['spec'].selector, 'the PDB covers the webhook pods');
});

t.test('RBAC: the webhook only reads', async (t) => {
  const docs = load('rbac-webhook.yaml');
  const role = docs.find((d) => d['kind'] === 'ClusterRole');
  for (const rule of role?.['rules'] ?? []) t.same(rule.verbs, ['get', 'list', 'watch']);
});

const one = (file: string, kind: string): Doc => {
  const found = load(file).filter((d) => d['kind'] === kind);
  if (found.length !== 1) throw new Error(`${file}: expected one ${kind}, found ${found.length}`);
  return found[0] as Doc;
};

/** True when every label the selector asks for is on the pod (matchLabels or a Service's plain map). */
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** A container's environment as the kubelet would set it in a pod of `workload`. */
function envOf(container: Doc, workload: Doc): Record<string, string> {
  const downward: Record<string, string> = {
    'metadata.namespace': workload['metadata'].namespace,
    'metadata.name': `${workload['metadata'].name}-7d9f8-x2x4q`,
  };
  const env: Record<string, string> = {};
  for (const e of (container['env'] ?? []) as Doc[]) {
    const value = e['value'] ?? downward[e['valueFrom']?.fieldRef?.fieldPath];
    if (value === undefined) throw new Error(`${e['name']}: no value for this test to give`);
    env[e['name']] = value;
  }
  return env;
}

/** A container's args as the CLI's parser sees them, for the role's config function. */
function flagsOf(container: Doc): Record<string, string> {
  const { values } = parseArgs({ args: container['args'], strict: false, allowPositionals: true });
  return values as Record<string, string>;
}

t.test('the webhook Service reaches the webhook pods on a port they serve', async (t) => {
  const service = one('webhook-service.yaml', 'Service');
  const webhook = one('webhook-deployment.yaml', 'Deployment');
  const template = webhook['spec'].template;
  t.equal(service['metadata'].namespace, webhook['metadata'].namespace, 'same namespace');
  t.ok(selects(service['spec'].selector, template.metadata.labels), 'the selector matches the pod labels');
  const container = template.spec.containers.find((c: Doc) => c['name'] === 'webhook');
  const declared: Doc[] = container?.ports ?? [];
  for (const port of service['spec'].ports as Doc[]) {
    const target = port['targetPort'] ?? port['port'];
    const served = declared.find((p) =>
      typeof target === 'number' ? p['containerPort'] === target : p['name'] === target,
    );
    t.ok(served, `port ${port['name']}: targetPort ${target} is declared by the webhook container`);
    // The declared port is only a name: the server must listen on it too.
    t.equal(
      webhookConfig(flagsOf(container), envOf(container, webhook)).port,
      served?.['containerPort'],
      'and the webhook listens there',
    );
  }
});

t.test('the PDB lets one webhook replica be evicted and keeps another serving', async (t) => {
  const webhook = one('webhook-deployment.yaml', 'Deployment');
  const pdb = one('webhook-pdb.yaml', 'PodDisruptionBudget');
  const replicas: number = webhook['spec'].replicas;
  t.ok(
    selects(pdb['spec'].selector.matchLabels, webhook['spec'].template.metadata.labels),
    'selects the pods',
  );
  // As the disruption controller scales an IntOrString: percentages round up.
  const count = (v: number | string) =>
    typeof v === 'number' ? v : Math.ceil((replicas * Number.parseInt(v, 10)) / 100);
  const { minAvailable, maxUnavailable } = pdb['spec'];
  t.ok((minAvailable === undefined) !== (maxUnavailable === undefined), 'exactly one of the two is set');
  const evictable = minAvailable !== undefined ? replicas - count(minAvailable) : count(maxUnavailable);
  t.ok(evictable >= 1, `a drain can evict a replica (${evictable} of ${replicas})`);
  t.ok(replicas - evictable >= 1, `binding still has a replica to answer (${replicas - evictable})`);
});

t.test('both webhooks call the webhook Service, in its namespace, on a port it exposes', async (t) => {
  const service = one('webhook-service.yaml', 'Service');
  const [config] = load('mutating-webhook-configuration.yaml');
  const ports = (service['spec'].ports as Doc[]).map((p) => p['port']);
  const webhooks = (config?.['webhooks'] ?? []) as Doc[];
  t.ok(webhooks.length > 0, 'there are webhooks');
  for (const w of webhooks) {
    const target = w['clientConfig'].service;
    t.equal(target?.name, service['metadata'].name, `${w['name']}: service name`);
    t.equal(target?.namespace, service['metadata'].namespace, `${w['name']}: service namespace`);
    // The apiserver calls port 443 when the configuration names none.
    t.ok(ports.includes(target?.port ?? 443), `${w['name']}: port ${target?.port ?? 443} is exposed`);
  }
});

t.test('the webhook mounts the Secret the manager writes, where it reads its certificate', async (t) => {
  const webhook = one('webhook-deployment.yaml', 'Deployment');
  const manager = one('manager-deployment.yaml', 'Deployment');
  // The manager writes the Secret in its own namespace: the webhook's pods must be there to mount it.
  t.equal(webhook['metadata'].namespace, manager['metadata'].namespace, 'same namespace as the manager');
  const spec = webhook['spec'].template.spec;
  const volume = (spec.volumes as Doc[]).find((v) => v['secret']?.secretName === SERVING_SECRET);
  if (!t.ok(volume, `a volume from Secret ${SERVING_SECRET}`)) return;
  const container = spec.containers.find((c: Doc) => c['name'] === 'webhook');
  const mount = (container?.volumeMounts as Doc[] | undefined)?.find((m) => m['name'] === volume?.['name']);
  const { certFile } = webhookConfig(flagsOf(container), envOf(container, webhook));
  t.equal(mount?.['mountPath'], dirname(certFile), 'mounted at the webhook --cert-dir');
});

t.test('the manager runs leader-elected, as the service account its RBAC binds', async (t) => {
  const manager = one('manager-deployment.yaml', 'Deployment');
  const namespace: string = manager['metadata'].namespace;
  const spec = manager['spec'].template.spec;
  const container = spec.containers.find((c: Doc) => c['name'] === 'manager');
  t.equal(managerConfig(flagsOf(container), envOf(container, manager)).leaderElect, true, 'leader election');
  const rbac = load('rbac-manager.yaml');
  for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
    const bindings = rbac.filter((d) => d['kind'] === kind);
    t.ok(bindings.length > 0, `a ${kind}`);
    for (const b of bindings) {
      const name = `${kind} ${b['metadata'].name}`;
      t.ok(
        (b['subjects'] as Doc[]).some(
          (s) =>
            s['kind'] === 'ServiceAccount' &&
            s['name'] === spec.serviceAccountName &&
            s['namespace'] === namespace,
        ),
        `${name} binds ${namespace}/${spec.serviceAccountName}`,
      );
      // The Role holds the Secrets and the Lease: bound anywhere else it grants nothing the manager uses.
      if (kind === 'RoleBinding') t.equal(b['metadata'].namespace, namespace, `${name}: in its namespace`);
      const { kind: roleKind, name: roleName } = b['roleRef'];
      t.ok(
        rbac.some(
          (r) =>
            r['kind'] === roleKind &&
            r['metadata'].name === roleName &&
            (roleKind === 'ClusterRole' || r['metadata'].namespace === b['metadata'].namespace),
        ),
        `${name}: ${roleKind} ${roleName} is defined alongside`,
      );
    }
  }
});

t.test("the manager's serving certificate names the webhook Service it is called through", async (t) => {
  const manager = one('manager-deployment.yaml', 'Deployment');
  const service = one('webhook-service.yaml', 'Service');
  const container = manager['spec'].template.spec.containers.find((c: Doc) => c['name'] === 'manager');
  const { certHosts } = managerConfig(flagsOf(container), envOf(container, manager));
  // What the apiserver dials for a clientConfig.service, and so the name it verifies the certificate against.
  const dialed = `${service['metadata'].name}.${service['metadata'].namespace}.svc`;
  t.ok(certHosts.includes(dialed), `${dialed} in ${certHosts.join(', ')}`);
});
