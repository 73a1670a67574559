import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { renderCrdFiles } from '../../../scripts/gen-crds.js';
import { customResourceDefinitions } from '../../../src/k8s/crds.js';

t.test('committed CRDs match the schemas they are generated from', async (t) => {
  for (const [name, text] of renderCrdFiles()) {
    const committed = readFileSync(join(import.meta.dirname, '../../../manifests/crds', name), 'utf8');
    t.equal(committed, text, `${name} is current (fix: node --import tsx scripts/gen-crds.ts)`);
  }
});

function walk(node: unknown, visit: (key: string, value: unknown) => void) {
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    visit(key, value);
    walk(value, visit);
  }
}

t.test('schemas are structural: nothing the apiserver refuses', async (t) => {
  for (const crd of customResourceDefinitions()) {
    walk(crd.spec.versions[0]?.schema, (key, value) => {
      if (key === 'patternProperties' || key === 'anyOf' || key === 'const' || key === '$id')
        t.fail(`${crd.metadata.name}: ${key}`);
      if (key === 'additionalProperties' && value === false)
        t.fail(`${crd.metadata.name}: additionalProperties: false`);
    });
  }
});

t.test('SeccompProfile columns and names as the seeds use them', async (t) => {
  const [sp] = customResourceDefinitions();
  t.same(sp?.spec.names.shortNames, ['sp']);
  t.equal(sp?.spec.scope, 'Namespaced');
  const version = sp?.spec.versions[0];
  t.equal(version?.name, 'v1beta1');
  t.same(version?.subresources, { status: {} });
  t.same(
    version?.additionalPrinterColumns.map((c) => [c.name, c.priority ?? 0]),
    [
      ['Status', 0],
      ['Age', 0],
      ['LocalhostProfile', 10],
    ],
  );
  const spec = parse(
    readFileSync(join(import.meta.dirname, '../../../manifests/crds/seccompprofiles.yaml'), 'utf8'),
  ).spec;
  t.same(spec.versions[0].schema.openAPIV3Schema.properties.spec.required, ['defaultAction']);
});
