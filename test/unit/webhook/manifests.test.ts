import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
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
