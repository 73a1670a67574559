import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isAppError } from '../../../src/errors.js';
import { kubeconfigPaths } from '../../../src/k8s/rest/kubeconfig-parse.js';
import { inCluster, loadRestConfig } from '../../../src/k8s/rest/kubeconfig.js';
import { fileTokenSource } from '../../../src/k8s/rest/token-source.js';

const dir = join(import.meta.dirname, '../../fixtures/kubeconfig');
const fixture = (name: string) => join(dir, name);
const text = (b: Buffer | undefined) => b?.toString('utf8');

t.test('client certificate inline, impersonating a ServiceAccount', async (t) => {
  const c = await loadRestConfig(fixture('client-cert.yaml'), { env: {} });
  t.equal(c.server, 'https://127.0.0.1:16443');
  t.equal(c.source, fixture('client-cert.yaml'));
  t.equal(c.namespace, 'work');
  t.match(text(c.tls.ca), /^-----BEGIN CERTIFICATE-----\nfixture CA, not a real certificate\n/);
  t.match(text(c.tls.cert), /fixture client certificate, not a real one/);
  t.equal(text(c.tls.key), 'fixture client key bytes, not a key\n');
  t.equal(c.tls.rejectUnauthorized, true);
  t.equal(c.tls.servername, 'apiserver.local');
  t.equal(c.token, undefined);
  t.same(c.impersonate, {
    user: 'system:serviceaccount:security-profiles-operator:spo-daemon',
    groups: ['system:serviceaccounts', 'system:authenticated'],
    extra: { scopes: ['a', 'b'] },
  });
});

t.test('another context by name, and its missing user is named', async (t) => {
  await t.rejects(loadRestConfig(fixture('client-cert.yaml'), { env: {}, context: 'other' }), {
    code: 'ERR_CONFIG',
    message: /user "nobody" \(context "other"\) not found in .*client-cert\.yaml/,
  });
  await t.rejects(loadRestConfig(fixture('client-cert.yaml'), { env: {}, context: 'nope' }), {
    message: /context "nope" not found/,
  });
});

t.test('files relative to the kubeconfig, and a token file', async (t) => {
  const c = await loadRestConfig(fixture('files.yaml'), { env: {} });
  t.equal(c.server, 'https://kube.example:6443/prefix/');
  t.equal(text(c.tls.ca), readFileSync(fixture('ca.crt.fixture'), 'utf8'));
  t.equal(text(c.tls.cert), readFileSync(fixture('client.crt.fixture'), 'utf8'));
  t.equal(text(c.tls.key), readFileSync(fixture('client.key.fixture'), 'utf8'));
  t.equal(await c.token?.(), 'fixture-token-from-file');
});

t.test('JSON kubeconfig: the inline token wins over the token file; insecure-skip-tls-verify', async (t) => {
  const c = await loadRestConfig(fixture('token.json'), { env: {} });
  t.equal(c.server, 'https://10.1.2.3');
  t.equal(await c.token?.(), 'inline-token');
  t.equal(c.tls.rejectUnauthorized, false);
  t.equal(c.tls.ca, undefined);
});

t.test('auth this client cannot do is refused with the fix', async (t) => {
  await t.rejects(loadRestConfig(fixture('exec.yaml'), { env: {} }), {
    code: 'ERR_CONFIG',
    message: /exec plugin \("aws"\).*client certificate or a token.*kubectl create token NAME/,
  });
  await t.rejects(loadRestConfig(fixture('auth-provider.yaml'), { env: {} }), {
    code: 'ERR_CONFIG',
    message: /auth-provider "gcp".*kubectl create token NAME/,
  });
});

t.test('contradictions and gaps are named', async (t) => {
  await t.rejects(loadRestConfig(fixture('insecure-with-ca.yaml'), { env: {} }), {
    message: /insecure-skip-tls-verify together with a certificate authority; remove one/,
  });
  await t.rejects(loadRestConfig(fixture('no-current-context.yaml'), { env: {} }), {
    message: /has no current-context; pick one with "kubectl config use-context NAME"/,
  });
  await t.rejects(loadRestConfig(fixture('missing.yaml'), { env: {} }), {
    code: 'ERR_CONFIG',
    message: /cannot load kubeconfig .*missing\.yaml: ENOENT/,
  });
  const bad = t.testdir({
    'yaml.yaml': 'clusters: [\n',
    'list.yaml': '- a\n- b\n',
    'server.yaml':
      'current-context: x\nclusters: [{name: c, cluster: {server: "ftp://x"}}]\ncontexts: [{name: x, context: {cluster: c}}]\n',
    'proxy.yaml':
      'current-context: x\nclusters: [{name: c, cluster: {server: "https://x", proxy-url: "http://p"}}]\ncontexts: [{name: x, context: {cluster: c}}]\n',
    'half.yaml':
      'current-context: x\nclusters: [{name: c, cluster: {server: "https://x"}}]\nusers: [{name: u, user: {client-certificate-data: YQ==}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n',
    'base64.yaml':
      'current-context: x\nclusters: [{name: c, cluster: {server: "https://x", certificate-authority-data: "not base64!"}}]\ncontexts: [{name: x, context: {cluster: c}}]\n',
    'groups.yaml':
      'current-context: x\nclusters: [{name: c, cluster: {server: "https://x"}}]\nusers: [{name: u, user: {as-groups: [g]}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n',
  });
  for (const [file, message] of [
    ['yaml.yaml', /cannot parse kubeconfig .*yaml\.yaml/],
    ['list.yaml', /not a kubeconfig \(expected a mapping\)/],
    ['server.yaml', /server "ftp:\/\/x" must be an http\(s\) URL/],
    ['proxy.yaml', /proxy-url is not supported/],
    ['half.yaml', /a client certificate needs its key/],
    ['base64.yaml', /certificate-authority-data: not base64/],
    ['groups.yaml', /as-groups, as-uid and as-user-extra need "as"/],
  ] as const) {
    await t.rejects(loadRestConfig(join(bad, file), { env: {} }), { code: 'ERR_CONFIG', message }, file);
  }
});

t.test(
  '$KUBECONFIG: files merged in order, missing ones skipped, the first to name a thing wins',
  async (t) => {
    const env = {
      KUBECONFIG: `${fixture('nowhere')}:${fixture('merge-first.yaml')}::${fixture('merge-second.yaml')}`,
    };
    const c = await loadRestConfig(undefined, { env });
    t.equal(c.server, 'https://first.example');
    t.same(c.basic, { username: 'admin', password: 'fixture-password' });
    t.equal(c.source, `${fixture('merge-first.yaml')}:${fixture('merge-second.yaml')}`);
    await t.rejects(loadRestConfig(undefined, { env: { KUBECONFIG: fixture('nowhere') } }), {
      message: /none of the KUBECONFIG files exist/,
    });
    t.same(kubeconfigPaths('a::b:a'), ['a', 'b']);
    t.same(kubeconfigPaths(undefined), []);
  },
);

t.test('~/.kube/config, then in-cluster, then a clear error', async (t) => {
  const root = t.testdir({
    home: { '.kube': { config: readFileSync(fixture('token.json'), 'utf8') } },
    sa: { token: 'sa-token\n', 'ca.crt': 'fixture in-cluster CA', namespace: 'spo\n' },
    empty: {},
  });
  const [home, sa, empty] = ['home', 'sa', 'empty'].map((d) => join(root, d)) as [string, string, string];
  t.equal((await loadRestConfig(undefined, { env: {}, home })).server, 'https://10.1.2.3');

  const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
  const c = await loadRestConfig(undefined, { env, home: empty, serviceAccountDir: sa });
  t.equal(c.server, 'https://10.0.0.1:443');
  t.equal(c.source, 'in-cluster');
  t.equal(c.namespace, 'spo');
  t.equal(text(c.tls.ca), 'fixture in-cluster CA');
  t.equal(await c.token?.(), 'sa-token');
  const v6 = await inCluster({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }, sa);
  t.equal(v6.server, 'https://[fd00::1]:6443');

  const err = await loadRestConfig(undefined, { env: {}, home: empty, serviceAccountDir: sa }).catch(
    (e) => e,
  );
  t.ok(isAppError(err));
  t.match(err, {
    code: 'ERR_CONFIG',
    message: /no kubeconfig found: pass --kubeconfig FILE, set KUBECONFIG/,
  });
  await t.rejects(inCluster({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, sa), {
    message: /KUBERNETES_SERVICE_PORT/,
  });
});

t.test(
  'a token file is read again after the refresh period; a failed read keeps the last token',
  async (t) => {
    const sa = t.testdir({ token: 'first\n' });
    const file = join(sa, 'token');
    let now = 0;
    const token = await fileTokenSource(file, 60_000, () => now);
    t.equal(await token(), 'first');
    writeFileSync(file, 'second\n');
    now = 59_999;
    t.equal(await token(), 'first', 'cached within the period');
    now = 60_000;
    t.equal(await token(), 'second', 'rotated token picked up');
    writeFileSync(file, '');
    now = 200_000;
    t.equal(await token(), 'second', 'an empty file (mid-rotation) keeps the last token');
    await t.rejects(fileTokenSource(join(sa, 'absent')), {
      code: 'ERR_CONFIG',
      message: /cannot read token file/,
    });
  },
);
