import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import t from 'tap';
import { parse } from 'yaml';
import { customResourceDefinitions } from '../../../src/k8s/crds.js';
import { HOST_PATH_RULE, SpodSpecSchema } from '../../../src/profiles/schema.js';

const crd = customResourceDefinitions().find((c) => c.spec.names.kind === 'SecurityProfilesOperatorDaemon');

t.test('names, scope, version and columns as the seeds use them', async (t) => {
  t.equal(crd?.metadata.name, 'securityprofilesoperatordaemons.security-profiles-operator.x-k8s.io');
  t.same(crd?.spec.names.shortNames, ['spod']);
  t.equal(crd?.spec.scope, 'Namespaced');
  const version = crd?.spec.versions[0];
  t.equal(version?.name, 'v1alpha1');
  t.same(version?.subresources, { status: {} });
  t.same(
    version?.additionalPrinterColumns.map((c) => [c.name, c.priority ?? 0]),
    [
      ['State', 0],
      ['Age', 0],
      ['Verbosity', 10],
      ['BpfRecorder', 10],
      ['LogEnricher', 10],
      ['Profiling', 10],
    ],
  );
});

t.test('the generated file is in the CRD kustomization, with defaults and the path rule', async (t) => {
  const dir = new URL('../../../manifests/crds/', import.meta.url);
  t.match(
    readFileSync(new URL('kustomization.yaml', dir), 'utf8'),
    /- securityprofilesoperatordaemons\.yaml/,
  );
  const file = parse(readFileSync(new URL('securityprofilesoperatordaemons.yaml', dir), 'utf8'));
  const root = file.spec.versions[0].schema.openAPIV3Schema;
  t.notOk(root.required, 'a spod without spec is valid: every field has a default');
  const spec = root.properties.spec;
  t.same(spec.default, {});
  t.same(
    Object.fromEntries(
      Object.entries(spec.properties).map(([k, v]) => [k, (v as { default?: unknown }).default]),
    ),
    {
      verbosity: 0,
      enableBpfRecorder: false,
      enableLogEnricher: false,
      enableProfiling: false,
      hostProcVolumePath: '/proc',
      webhookOptions: undefined,
    },
  );
  t.match(spec.properties.hostProcVolumePath['x-kubernetes-validations'], [{ rule: HOST_PATH_RULE }]);
  t.same(spec.properties.webhookOptions['x-kubernetes-list-map-keys'], ['name']);
});

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(SpodSpecSchema);
const specs: Array<[string, unknown, boolean]> = [
  ['{}', {}, true],
  [
    'the seed patches together',
    {
      verbosity: 1,
      enableBpfRecorder: true,
      enableLogEnricher: true,
      enableProfiling: true,
      hostProcVolumePath: '/my-proc',
    },
    true,
  ],
  [
    'webhook options',
    {
      webhookOptions: [
        { name: 'binding.spo.io', failurePolicy: 'Ignore', namespaceSelector: { matchLabels: { a: 'b' } } },
      ],
    },
    true,
  ],
  ['verbosity 5', { verbosity: 5 }, false],
  ['verbosity "1"', { verbosity: '1' }, false],
  ['an unknown webhook', { webhookOptions: [{ name: 'other.spo.io' }] }, false],
  ['failurePolicy Maybe', { webhookOptions: [{ name: 'binding.spo.io', failurePolicy: 'Maybe' }] }, false],
  ['a webhook option without name', { webhookOptions: [{ failurePolicy: 'Fail' }] }, false],
];
for (const [name, spec, ok] of specs) {
  t.test(`spec schema: ${name} is ${ok ? 'accepted' : 'refused'}`, async (t) => {
    t.equal(validate(spec), ok, JSON.stringify(validate.errors));
  });
}
