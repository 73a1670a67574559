// docs/crd-reference.md must name every field, allowed value and printer column of every CRD the operator
// installs, and no field the CRDs do not have: a schema change that leaves the reference behind fails here.
import t from 'tap';
import { customResourceDefinitions } from '../../../src/k8s/crds.js';
import { firstCells, readDoc, section } from './markdown.js';

interface Schema {
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly enum?: readonly unknown[];
}

const OBJECT_META = new Set(['apiVersion', 'kind', 'metadata']);

/** Field paths as the reference writes them (`spec.syscalls[].args[].op`), and every allowed value on the way. */
function walk(schema: Schema, path: string, out: { paths: string[]; values: Set<string> }): void {
  for (const v of schema.enum ?? []) out.values.add(String(v));
  if (schema.items !== undefined) walk(schema.items, `${path}[]`, out);
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const childPath = path === '' ? key : `${path}.${key}`;
    out.paths.push(childPath);
    walk(child, childPath, out);
  }
}

const doc = readDoc('crd-reference.md');
const crds = customResourceDefinitions();

t.ok(crds.length >= 4, 'the CRDs are there to check');
for (const crd of crds) {
  const kind = crd.spec.names.kind;
  t.test(kind, async (t) => {
    const text = section(doc, `## ${kind}`);
    if (text === undefined) {
      t.fail(`docs/crd-reference.md has no "## ${kind}" section`);
      return;
    }
    const [version] = crd.spec.versions;
    const root = version?.schema.openAPIV3Schema as Schema;
    const found = { paths: [] as string[], values: new Set<string>() };
    for (const [key, child] of Object.entries(root.properties ?? {})) {
      if (OBJECT_META.has(key)) continue;
      found.paths.push(key);
      walk(child, key, found);
    }
    const missing = found.paths.filter((p) => !text.includes(`\`${p}\``));
    t.same(missing, [], `every field of ${kind} is described`);
    const missingValues = [...found.values].filter((v) => !text.includes(`\`${v}\``));
    t.same(missingValues, [], `every allowed value of ${kind} is named`);
    const columns = (version?.additionalPrinterColumns ?? []).map((c) => c.name);
    t.same(
      columns.filter((c) => !text.includes(`\`${c}\``)),
      [],
      `every printer column of ${kind} is named (${columns.join(', ')})`,
    );
    const known = new Set(found.paths);
    const described = firstCells(text, 'field').map((c) => c.replace(/^`|`$/g, ''));
    t.same(
      described.filter((p) => !known.has(p)),
      [],
      `the reference describes no field ${kind} does not have`,
    );
  });
}

t.test('the index table lists every kind with its version and short name', async (t) => {
  for (const crd of crds) {
    const row = doc.split('\n').find((l) => l.startsWith(`| [${crd.spec.names.kind}]`));
    t.ok(row, `a row for ${crd.spec.names.kind}`);
    t.match(row ?? '', `\`${crd.spec.versions[0]?.name}\``, 'with its version');
    for (const short of crd.spec.names.shortNames ?? []) t.match(row ?? '', `\`${short}\``, 'and short name');
  }
});
