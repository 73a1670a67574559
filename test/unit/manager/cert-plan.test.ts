import t from 'tap';
import {
  type CertPolicy,
  metricsHosts,
  planCertificates,
  servingRenewal,
} from '../../../src/manager/cert-plan.js';
import { certInfo, createCa, issueServing, signedBy, splitPem } from '../../../src/manager/x509.js';

const DAY = 86_400_000;
const policy: CertPolicy = {
  caValidDays: 3650,
  servingValidDays: 90,
  servingRenewBeforeDays: 30,
  hosts: ['webhook-service.security-profiles-operator.svc', '127.0.0.1'],
};
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * DAY);

const ca = await createCa('test-ca', policy.caValidDays, t0);
const serving = await issueServing(ca, policy.hosts, policy.servingValidDays, t0);
const otherCa = await createCa('other-ca', policy.caValidDays, t0);
const stored = {
  caCertPem: ca.certPem,
  caKeyPem: ca.keyPem,
  bundlePem: ca.certPem,
  servingCertPem: serving.certPem,
  servingKeyPem: serving.keyPem,
};

t.ok(signedBy(serving.certPem, ca.certPem), 'the serving certificate is signed by its CA');
t.notOk(signedBy(serving.certPem, otherCa.certPem), 'and not by another');

const cases = [
  { name: 'nothing stored: CA and serving', stored: {}, now: t0, newCa: true, newServing: true },
  { name: 'fresh pair: nothing to do', stored, now: at(1), newCa: false, newServing: false },
  { name: 'serving with 31 days left: kept', stored, now: at(59), newCa: false, newServing: false },
  {
    name: 'serving with 29 days left: renewed well before expiry',
    stored,
    now: at(61),
    newCa: false,
    newServing: true,
  },
  { name: 'serving expired: renewed', stored, now: at(100), newCa: false, newServing: true },
  {
    name: 'garbage serving certificate: renewed',
    stored: { ...stored, servingCertPem: 'junk' },
    now: at(1),
    newCa: false,
    newServing: true,
  },
  {
    name: 'serving key lost: renewed',
    stored: { ...stored, servingKeyPem: undefined },
    now: at(1),
    newCa: false,
    newServing: true,
  },
  {
    name: 'serving signed by another CA: renewed',
    stored: { ...stored, caCertPem: otherCa.certPem, caKeyPem: otherCa.keyPem },
    now: at(1),
    newCa: false,
    newServing: true,
  },
  {
    name: 'a new host to name: renewed',
    stored,
    now: at(1),
    policy: { ...policy, hosts: [...policy.hosts, 'localhost'] },
    newCa: false,
    newServing: true,
  },
  {
    name: 'CA within two serving lifetimes of expiry: rotated',
    stored,
    now: at(3650 - 170),
    newCa: true,
    newServing: true,
  },
  {
    name: 'CA key lost: new CA',
    stored: { ...stored, caKeyPem: undefined },
    now: at(1),
    newCa: true,
    newServing: true,
  },
];
for (const c of cases) {
  const plan = planCertificates(c.stored, c.policy ?? policy, c.now);
  t.match(plan, { newCa: c.newCa, newServing: c.newServing }, c.name);
  t.ok(plan.reasons.length > 0 || (!c.newCa && !c.newServing), `${c.name}: says why`);
}

t.test('during CA rotation the old CA stays trusted until it expires', async (t) => {
  const rotated = await createCa('next-ca', policy.caValidDays, at(3000));
  const bundle = `${ca.certPem}${rotated.certPem}`;
  const mid = planCertificates(
    { ...stored, caCertPem: rotated.certPem, caKeyPem: rotated.keyPem, bundlePem: bundle },
    policy,
    at(3100),
  );
  t.equal(mid.keptBundle.length, 2, 'old and new CA in the bundle');
  const late = planCertificates(
    { ...stored, caCertPem: rotated.certPem, caKeyPem: rotated.keyPem, bundlePem: bundle },
    policy,
    at(3700),
  );
  t.same(late.keptBundle, [rotated.certPem], 'expired CA dropped');
  t.equal(splitPem(bundle).length, 2);
});

t.test('the metrics certificate: one more serving certificate under the same CA', async (t) => {
  const hosts = metricsHosts('security-profiles-operator');
  t.same(hosts, [
    'metrics.security-profiles-operator.svc',
    'metrics.security-profiles-operator.svc.cluster.local',
    'metrics.security-profiles-operator',
    'metrics',
  ]);
  const withMetrics: CertPolicy = { ...policy, metricsHosts: hosts };
  const metrics = await issueServing(ca, hosts, policy.servingValidDays, t0);
  t.same(certInfo(metrics.certPem).dnsNames, hosts, 'names every Service form the seed uses');
  const full = { ...stored, metrics: { certPem: metrics.certPem, keyPem: metrics.keyPem } };

  const cases = [
    {
      name: 'no metrics policy: never planned',
      stored,
      policy,
      now: at(1),
      newServing: false,
      newMetrics: false,
    },
    {
      name: 'metrics policy, nothing stored for it: issued, webhook kept',
      stored,
      policy: withMetrics,
      now: at(1),
      newServing: false,
      newMetrics: true,
      reason: /^metrics: no serving certificate$/,
    },
    {
      name: 'both fresh: nothing to do',
      stored: full,
      policy: withMetrics,
      now: at(1),
      newServing: false,
      newMetrics: false,
    },
    {
      name: 'metrics due with the webhook certificate: both renewed',
      stored: full,
      policy: withMetrics,
      now: at(61),
      newServing: true,
      newMetrics: true,
      reason: /^metrics: serving certificate expires /,
    },
    {
      name: 'metrics key lost: only metrics renewed',
      stored: { ...full, metrics: { certPem: metrics.certPem } },
      policy: withMetrics,
      now: at(1),
      newServing: false,
      newMetrics: true,
    },
    {
      name: 'metrics signed by another CA: renewed',
      stored: { ...full, metrics: await issueServing(otherCa, hosts, 90, t0) },
      policy: withMetrics,
      now: at(1),
      newServing: false,
      newMetrics: true,
      reason: /not signed by the current CA/,
    },
    {
      name: 'metrics certificate for another namespace: renewed',
      stored: full,
      policy: { ...policy, metricsHosts: metricsHosts('other') },
      now: at(1),
      newServing: false,
      newMetrics: true,
      reason: /does not name metrics\.other\.svc/,
    },
    {
      name: 'new CA: metrics follows it',
      stored: { ...full, caKeyPem: undefined },
      policy: withMetrics,
      now: at(1),
      newServing: true,
      newMetrics: true,
      reason: /^metrics: serving certificate follows the new CA$/,
    },
  ];
  for (const c of cases) {
    const plan = planCertificates(c.stored, c.policy, c.now);
    t.match(plan, { newServing: c.newServing, newMetrics: c.newMetrics }, c.name);
    if (c.reason !== undefined)
      t.ok(
        plan.reasons.some((r) => c.reason.test(r)),
        `${c.name}: ${plan.reasons}`,
      );
  }
});

t.test('servingRenewal names the reason, or nothing for a good certificate', async (t) => {
  const pair = { certPem: serving.certPem, keyPem: serving.keyPem };
  t.equal(servingRenewal(pair, ca.certPem, policy.hosts, 30, at(1)), undefined);
  t.equal(servingRenewal({}, ca.certPem, policy.hosts, 30, at(1)), 'no serving certificate');
  t.equal(
    servingRenewal(pair, undefined, policy.hosts, 30, at(1)),
    'serving certificate not signed by the current CA',
  );
  t.match(servingRenewal(pair, ca.certPem, ['x.example'], 30, at(1)), /does not name x\.example/);
});
