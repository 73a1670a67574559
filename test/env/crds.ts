// Installs the project's CRDs (manifests/crds/*.yaml) by server-side apply,
// as `kubectl apply --server-side` would, and waits until each is Established.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { apiserverTls, apiserverUrl } from './controlplane.js';
import { get, request } from './http.js';
import { crdDir } from './layout.js';
import { waitFor } from './wait.js';

interface Crd {
  kind?: string;
  metadata?: { name?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

const crdPath = (name: string) =>
  `${apiserverUrl}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;

/** The CRD documents in manifests/crds, in file order. */
export function projectCrds(): Crd[] {
  const dir = crdDir();
  if (!existsSync(dir)) return [];
  const out: Crd[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      const obj = doc.toJSON() as Crd | null;
      if (obj?.kind === 'CustomResourceDefinition' && obj.metadata?.name) out.push(obj);
    }
  }
  return out;
}

export async function installCrds(): Promise<string[]> {
  const crds = projectCrds();
  for (const crd of crds) {
    const name = crd.metadata?.name as string;
    const res = await request('PATCH', `${crdPath(name)}?fieldManager=spo-dev&force=true`, apiserverTls(), {
      data: JSON.stringify(crd),
      contentType: 'application/apply-patch+yaml',
    });
    if (res.status !== 200 && res.status !== 201)
      throw new Error(`applying CRD ${name}: ${res.status} ${res.body}`);
  }
  const names = crds.map((c) => c.metadata?.name as string);
  for (const name of names) {
    await waitFor(
      async () => {
        const res = await get(crdPath(name), apiserverTls());
        const crd = JSON.parse(res.body) as Crd;
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
      },
      { what: `CRD ${name} to be Established`, timeoutMs: 30_000 },
    );
  }
  return names;
}
