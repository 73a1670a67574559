// Every object document of the manifests, sent to the real apiserver as a strict server-side dry run: its own
// schema validation (unknown or misspelled fields, wrong types, invalid values, a selector that does not match
// its template) runs, and nothing is stored. Unit tests check how the manifests fit together; only the
// apiserver can say they are valid Kubernetes objects. These are the files as written: kustomize's label and
// image transforms and the OpenShift DaemonSet patch are not applied (this machine has no kustomize).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import t from 'tap';
import { NAMESPACE_OPERATOR_FILE, NS_PLACEHOLDER } from '../../../scripts/gen-namespace-operator.js';
import { createNamespace, deleteNamespace, requireCluster } from '../../helpers/cluster.js';
import { apiRequest } from '../webhook/kube.js';

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<
  string,
  unknown
>;

const manifests = join(import.meta.dirname, '../../../manifests');
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'MutatingWebhookConfiguration',
]);

/** The documents of a kustomization's plain resources (its sub-kustomizations are listed separately). */
function resourcesOf(dir: string): Array<{ file: string; doc: Doc }> {
  const k = loadAllYaml(readFileSync(join(manifests, dir, 'kustomization.yaml'), 'utf8'))[0] as {
    resources: string[];
  };
  return k.resources
    .filter((r) => r.endsWith('.yaml'))
    .flatMap((r) =>
      (loadAllYaml(readFileSync(join(manifests, dir, r), 'utf8')) as Doc[]).map((doc) => ({
        file: `${dir}/${r}`,
        doc,
      })),
    );
}

const cluster = await requireCluster(t);
if (cluster !== undefined) {
  const c = cluster;
  const ns = await createNamespace(c, 'validate');
  t.teardown(() => deleteNamespace(c, ns));

  /**
   * A dry-run create of `doc`. Namespaced objects go to this test's namespace and cluster-scoped ones get a
   * name of their own, so none collides with what the dev cluster already runs.
   */
  const dryRun = (doc: Doc) => {
    const clusterScoped = CLUSTER_SCOPED.has(doc.kind);
    const body = {
      ...doc,
      metadata: clusterScoped
        ? { ...doc.metadata, name: `${doc.metadata.name}-${ns}` }
        : { ...doc.metadata, namespace: ns },
    };
    const plural = `${doc.kind.toLowerCase()}s`;
    const group = doc.apiVersion === 'v1' ? '/api/v1' : `/apis/${doc.apiVersion}`;
    const path = clusterScoped ? `${group}/${plural}` : `${group}/namespaces/${ns}/${plural}`;
    return apiRequest<{ message?: string }>(c.kc, 'POST', `${path}?dryRun=All&fieldValidation=Strict`, body);
  };

  const webhookDeployment = resourcesOf('base').find((r) => r.doc.kind === 'Deployment')?.doc;
  t.test('control: the apiserver refuses a misspelled field', async (t) => {
    if (!t.ok(webhookDeployment, 'the base has a Deployment')) return;
    const spec = webhookDeployment?.['spec'] as Record<string, unknown>;
    const { replicas, ...rest } = spec;
    const res = await dryRun({ ...(webhookDeployment as Doc), spec: { ...rest, replica: replicas } });
    t.equal(res.status, 400, 'refused');
    t.match(res.body.message, /unknown field "spec\.replica"/);
  });

  // The CRDs are applied by `scripts/dev up` itself, so the apiserver has validated them before any test runs.
  // scc.yaml needs OpenShift's API and daemonset-crio.yaml is a patch, not an object.
  const sources = [
    ...resourcesOf('base'),
    ...resourcesOf('openshift').filter((r) => r.file !== 'openshift/scc.yaml'),
    ...(
      loadAllYaml(readFileSync(NAMESPACE_OPERATOR_FILE, 'utf8').replaceAll(NS_PLACEHOLDER, ns)) as Doc[]
    ).map((doc) => ({ file: 'namespace-operator', doc })),
  ];
  t.test('every object the manifests install is valid', async (t) => {
    t.ok(sources.length >= 30, `${sources.length} objects`);
    for (const { file, doc } of sources) {
      const res = await dryRun(doc);
      t.equal(res.status, 201, `${file}: ${doc.kind} ${doc.metadata.name}`, { message: res.body.message });
    }
    // A dry run and a real create both answer 201: the renamed Namespace must not exist afterwards.
    const namespace = sources.find((s) => s.doc.kind === 'Namespace')?.doc;
    const left = await apiRequest(c.kc, 'GET', `/api/v1/namespaces/${namespace?.metadata.name}-${ns}`);
    t.equal(left.status, 404, 'nothing was stored');
  });
}
