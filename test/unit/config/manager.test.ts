import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { DEFAULT_OPERATOR_NAMESPACE } from '../../../src/config/common.js';
import { managerConfig } from '../../../src/config/manager.js';

// The apiserver dials the webhook by its Service's DNS name and verifies the certificate against it, so the
// names come from the manifest the cluster runs, not from the code under test.
const service = parse(
  readFileSync(new URL('../../../manifests/base/webhook-service.yaml', import.meta.url), 'utf8'),
) as { metadata: { name: string } };

const serviceNames = (namespace: string) => [
  `${service.metadata.name}.${namespace}.svc`,
  `${service.metadata.name}.${namespace}.svc.cluster.local`,
];

t.test('the serving certificate names the webhook Service in the operator namespace', async (t) => {
  const cases = [
    { name: 'default namespace', flags: {}, env: {}, namespace: DEFAULT_OPERATOR_NAMESPACE },
    // How the Deployment runs it: the downward API sets the pod's namespace.
    { name: 'OPERATOR_NAMESPACE', flags: {}, env: { OPERATOR_NAMESPACE: 'team-a' }, namespace: 'team-a' },
    {
      name: '--operator-namespace, over OPERATOR_NAMESPACE',
      flags: { 'operator-namespace': 'team-b' },
      env: { OPERATOR_NAMESPACE: 'team-a' },
      namespace: 'team-b',
    },
  ];
  for (const c of cases) {
    t.test(c.name, async (t) => t.same(managerConfig(c.flags, c.env).certHosts, serviceNames(c.namespace)));
  }
});

t.test('--cert-host names are added after the Service names, in order', async (t) => {
  const extra = ['webhook.example.test', '192.0.2.10'];
  const { certHosts } = managerConfig({ 'operator-namespace': 'team-a', 'cert-host': extra }, {});
  t.same(certHosts, [...serviceNames('team-a'), ...extra]);
});
