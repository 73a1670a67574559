// Writes manifests/namespace-operator/namespace-operator.yaml (single-namespace mode) from manifests/base;
// `--check` fails when the committed file is stale. Install: sed "s/NS_REPLACE/$NAMESPACE/g" | kubectl apply -f -
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { WEBHOOK_SERVICE_NAME, webhookConfiguration } from '../src/webhook/configuration.js';

export const NS_PLACEHOLDER = 'NS_REPLACE';
const BASE_NAMESPACE = 'security-profiles-operator';
const PART_OF = { 'app.kubernetes.io/part-of': 'seccomp-profiles-operator' };
/** Roles that read namespaced resources, so their containers get --watch-namespace. */
const WATCHING_ROLES = new Set(['manager', 'webhook', 'daemon']);

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML documents
type Doc = Record<string, any>;

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

/**
 * What single-namespace mode does with a cluster-scoped resource in a base ClusterRole: `drop` what the roles
 * no longer use there (namespace labelling, node watches), `keep` what cannot be namespaced (reviews, the webhook
 * configuration, which is renamed per install). Anything cluster-scoped not listed stops the generator.
 */
const CLUSTER_SCOPED: Readonly<Record<string, 'drop' | 'keep'>> = {
  '/namespaces': 'drop',
  '/nodes': 'drop',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': 'keep',
  'authentication.k8s.io/tokenreviews': 'keep',
  'authorization.k8s.io/subjectaccessreviews': 'keep',
};
const KNOWN_CLUSTER_SCOPED = new Set([
  '/persistentvolumes',
  'admissionregistration.k8s.io/validatingwebhookconfigurations',
  'apiextensions.k8s.io/customresourcedefinitions',
  'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/clusterrolebindings',
  'storage.k8s.io/storageclasses',
  'security.openshift.io/securitycontextconstraints',
  'certificates.k8s.io/certificatesigningrequests',
]);

/** Splits a ClusterRole's rules into what becomes a Role in the namespace and what stays cluster-wide. */
function splitRules(role: string, rules: Rule[], webhookName: string): { local: Rule[]; cluster: Rule[] } {
  const local: Rule[] = [];
  const cluster: Rule[] = [];
  for (const rule of rules) {
    if (rule.nonResourceURLs !== undefined) {
      cluster.push(rule);
      continue;
    }
    for (const group of rule.apiGroups ?? ['']) {
      const keepLocal: string[] = [];
      const keepCluster: string[] = [];
      for (const resource of rule.resources ?? []) {
        const key = `${group}/${resource.split('/')[0]}`;
        const action = CLUSTER_SCOPED[key];
        if (action === 'drop') continue;
        if (action === 'keep') keepCluster.push(resource);
        else if (KNOWN_CLUSTER_SCOPED.has(key))
          throw new Error(`ClusterRole ${role}: no single-namespace rule for cluster-scoped ${key}`);
        else keepLocal.push(resource);
      }
      const names = (resourceNames: string[] | undefined) => (resourceNames ? { resourceNames } : {});
      if (keepLocal.length > 0)
        local.push({
          apiGroups: [group],
          resources: keepLocal,
          ...names(rule.resourceNames),
          verbs: rule.verbs,
        });
      if (keepCluster.length > 0) {
        const webhookConfigs = keepCluster.includes('mutatingwebhookconfigurations');
        cluster.push({
          apiGroups: [group],
          resources: keepCluster,
          ...names(webhookConfigs ? [webhookName] : rule.resourceNames),
          verbs: rule.verbs,
        });
      }
    }
  }
  return { local: mergeByGroup(local), cluster: mergeByGroup(cluster) };
}

/** Rules split per group are put back together when nothing but the group differs. */
function mergeByGroup(rules: Rule[]): Rule[] {
  const out: Rule[] = [];
  for (const rule of rules) {
    const same = out.find(
      (r) =>
        r.apiGroups !== undefined &&
        rule.apiGroups !== undefined &&
        JSON.stringify({ ...r, apiGroups: [] }) === JSON.stringify({ ...rule, apiGroups: [] }) &&
        r.nonResourceURLs === undefined,
    );
    if (same?.apiGroups && rule.apiGroups) same.apiGroups.push(...rule.apiGroups);
    else out.push(structuredClone(rule));
  }
  return out;
}

function meta(name: string, namespace?: string, labels?: Record<string, string>): Doc {
  return {
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    labels: { ...(labels ?? {}), ...PART_OF },
  };
}

function inNamespace(doc: Doc, ns: string): Doc {
  const out = structuredClone(doc);
  out['metadata'] = {
    ...out['metadata'],
    namespace: ns,
    labels: { ...(out['metadata'].labels ?? {}), ...PART_OF },
  };
  return out;
}

function withImages(doc: Doc, images: ReadonlyMap<string, string>, ns: string): Doc {
  const spec = doc['spec']?.template?.spec;
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])] as Doc[]) {
    const image = images.get(String(c['image']));
    if (image !== undefined) c['image'] = image;
    if (Array.isArray(c['args']) && WATCHING_ROLES.has(String(c['args'][0])))
      c['args'] = [...c['args'], `--watch-namespace=${ns}`];
  }
  return doc;
}

/**
 * The single-namespace variant of the base: everything in `ns`, Roles there in place of ClusterRoles, only
 * review and webhook-configuration rights left cluster-wide, the webhook configuration selecting `ns` by name,
 * and the watching roles started with --watch-namespace. Pure: base documents in, documents out.
 */
export function namespaceOperatorDocs(
  base: readonly Doc[],
  images: ReadonlyMap<string, string>,
  ns: string = NS_PLACEHOLDER,
): Doc[] {
  const webhook = webhookConfiguration(
    { service: { namespace: ns, name: WEBHOOK_SERVICE_NAME, port: 443 } },
    ns,
    undefined,
    { watchNamespace: ns },
  );
  const webhookName = webhook.metadata.name;
  const clusterNames = new Map<string, string>();
  const localRoles = new Set<string>();
  const out: Doc[] = [];
  for (const doc of base) {
    const kind = String(doc['kind']);
    const name = String(doc['metadata']?.name);
    switch (kind) {
      case 'Namespace':
        // The namespace also holds the workloads, so no Pod Security label is imposed on it here.
        out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(ns) });
        break;
      case 'ClusterRole': {
        const { local, cluster } = splitRules(name, doc['rules'] ?? [], webhookName);
        if (local.length > 0) {
          localRoles.add(name);
          out.push({ apiVersion: doc['apiVersion'], kind: 'Role', metadata: meta(name, ns), rules: local });
        }
        if (cluster.length > 0) {
          clusterNames.set(name, `${name}-${ns}`);
          out.push({
            apiVersion: doc['apiVersion'],
            kind: 'ClusterRole',
            metadata: meta(`${name}-${ns}`),
            rules: cluster,
          });
        }
        break;
      }
      case 'ClusterRoleBinding': {
        const role = String(doc['roleRef']?.name);
        const subjects = (doc['subjects'] ?? []).map((s: Doc) =>
          s['namespace'] === BASE_NAMESPACE ? { ...s, namespace: ns } : s,
        );
        if (localRoles.has(role)) {
          out.push({
            apiVersion: doc['apiVersion'],
            kind: 'RoleBinding',
            metadata: meta(name, ns),
            roleRef: { ...doc['roleRef'], kind: 'Role' },
            subjects,
          });
        }
        const clusterRole = clusterNames.get(role);
        if (clusterRole !== undefined) {
          out.push({
            apiVersion: doc['apiVersion'],
            kind: 'ClusterRoleBinding',
            metadata: meta(clusterRole),
            roleRef: { ...doc['roleRef'], name: clusterRole },
            subjects,
          });
        }
        if (!localRoles.has(role) && clusterRole === undefined)
          throw new Error(`ClusterRoleBinding ${name}: ClusterRole ${role} must come first in the base`);
        break;
      }
      case 'MutatingWebhookConfiguration':
        out.push({
          ...webhook,
          metadata: { ...webhook.metadata, labels: { ...webhook.metadata.labels, ...PART_OF } },
        });
        break;
      default: {
        if (doc['metadata']?.namespace !== BASE_NAMESPACE)
          throw new Error(`${kind} ${name}: no single-namespace rule for it (not in ${BASE_NAMESPACE})`);
        const moved = inNamespace(doc, ns);
        if (kind === 'RoleBinding') {
          moved['subjects'] = (moved['subjects'] ?? []).map((s: Doc) =>
            s['namespace'] === BASE_NAMESPACE ? { ...s, namespace: ns } : s,
          );
        }
        out.push(kind === 'Deployment' || kind === 'DaemonSet' ? withImages(moved, images, ns) : moved);
      }
    }
  }
  return mergeSameName(out);
}

/**
 * A base ClusterRole turned Role can share its name with the base's own Role in the operator namespace
 * (spo-manager); one object per name, the rules and subjects of both.
 */
function mergeSameName(docs: Doc[]): Doc[] {
  const out: Doc[] = [];
  for (const doc of docs) {
    const key = (d: Doc) => `${d['kind']}/${d['metadata']?.namespace ?? ''}/${d['metadata']?.name}`;
    const first = out.find((d) => key(d) === key(doc));
    if (first === undefined) {
      out.push(doc);
    } else if (doc['kind'] === 'Role') {
      first['rules'] = [...first['rules'], ...doc['rules']];
    } else if (
      doc['kind'] === 'RoleBinding' &&
      JSON.stringify(first['roleRef']) === JSON.stringify(doc['roleRef'])
    ) {
      for (const s of doc['subjects'] ?? [])
        if (!first['subjects'].some((f: Doc) => JSON.stringify(f) === JSON.stringify(s)))
          first['subjects'].push(s);
    } else {
      throw new Error(`two different ${key(doc)} in the single-namespace variant`);
    }
  }
  return out;
}

const root = join(import.meta.dirname, '..');
export const NAMESPACE_OPERATOR_FILE = join(
  root,
  'manifests',
  'namespace-operator',
  'namespace-operator.yaml',
);

/** The file as committed: a header, then the documents from the base files in kustomization order. */
export function renderNamespaceOperator(): string {
  const baseDir = join(root, 'manifests', 'base');
  const kustomization = parse(readFileSync(join(baseDir, 'kustomization.yaml'), 'utf8')) as {
    resources: string[];
    images?: Array<{ name: string; newName?: string; newTag?: string }>;
  };
  const images = new Map(
    (kustomization.images ?? []).map((i) => [
      i.name,
      `${i.newName ?? i.name}${i.newTag !== undefined ? `:${i.newTag}` : ''}`,
    ]),
  );
  const docs: Doc[] = [];
  for (const file of kustomization.resources.filter((r) => r.endsWith('.yaml'))) {
    // YAML 1.1, as kubectl reads it: `defaultMode: 0440` is octal there.
    for (const d of parseAllDocuments(readFileSync(join(baseDir, file), 'utf8'), { version: '1.1' })) {
      const js = d.toJS() as Doc | null;
      if (js !== null) docs.push(js);
    }
  }
  const header = [
    '# Generated by scripts/gen-namespace-operator.ts from manifests/base. Do not edit.',
    '# The operator restricted to one namespace (the seed\'s "Restricting to a Single Namespace"): it is',
    '# installed in that namespace and watches only it. Install the CRDs once per cluster, then:',
    '#   kubectl apply --server-side -k manifests/crds',
    `#   sed "s/${NS_PLACEHOLDER}/$NAMESPACE/g" manifests/namespace-operator/namespace-operator.yaml | kubectl apply -f -`,
    '# See docs/operator-configuration.md.',
    '',
  ].join('\n');
  return (
    header +
    namespaceOperatorDocs(docs, images)
      .map((d) => stringify(d, { lineWidth: 0 }))
      .join('---\n')
  );
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const text = renderNamespaceOperator();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(NAMESPACE_OPERATOR_FILE, 'utf8');
    } catch {}
    if (current !== text) {
      console.error(
        `${NAMESPACE_OPERATOR_FILE} is out of date; run: node --import tsx scripts/gen-namespace-operator.ts`,
      );
      process.exitCode = 1;
    }
  } else {
    writeFileSync(NAMESPACE_OPERATOR_FILE, text);
    console.log(`wrote ${NAMESPACE_OPERATOR_FILE}`);
  }
}
