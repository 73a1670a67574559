import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t, { type Test } from 'tap';
import { createDaemonMetrics } from '../../../src/daemon/metrics.js';
import { PARTIAL_LABEL, ProfileSync } from '../../../src/daemon/profile-sync.js';
import { seccompSupported } from '../../../src/daemon/seccomp-support.js';
import type { ProfileState, SeccompProfile, SeccompProfileSpec } from '../../../src/profiles/types.js';
import { resource } from '../../helpers/profiles.js';

// The store and sinks stand in for the apiserver here (the k8s wiring has its own integration test);
// the files are real.
function harness(t: Test, opts: { supported?: boolean; namespace?: string } = {}) {
  const root = t.testdir();
  const profiles = new Map<string, SeccompProfile>();
  const reports: Array<{ name: string; state: ProfileState; message?: string }> = [];
  const events: Array<{ name: string; type: string; reason: string }> = [];
  const registry = new Registry();
  const builtins: Record<string, SeccompProfileSpec> = {
    'runc-v1.1.5': {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['execve', 'clone'], action: 'SCMP_ACT_ALLOW' }],
    },
  };
  const sync = new ProfileSync({
    root,
    nodeName: 'dev-node',
    store: {
      get: (ns, name) => profiles.get(`${ns}/${name}`),
      list: () => [...profiles.values()],
    },
    builtinBase: (name) => builtins[name],
    status: {
      report: async (p, state, message) => {
        reports.push({ name: p.metadata.name, state, ...(message !== undefined ? { message } : {}) });
      },
    },
    events: { emit: (p, type, reason) => events.push({ name: p.metadata.name, type, reason }) },
    metrics: createDaemonMetrics(registry),
    log: pino({ level: 'silent' }),
    seccompSupported: opts.supported ?? true,
    namespace: opts.namespace,
  });
  const put = async (spec: object, name = 'profile1', extra: Record<string, unknown> = {}) => {
    const p = resource(spec, name, 'my-namespace') as SeccompProfile;
    Object.assign(p.metadata, extra);
    profiles.set(`my-namespace/${name}`, p);
    sync.enqueue('my-namespace', name);
    await sync.idle();
  };
  const del = async (name: string) => {
    profiles.delete(`my-namespace/${name}`);
    sync.enqueue('my-namespace', name);
    await sync.idle();
  };
  const file = (name: string) => join(root, 'operator/my-namespace', `${name}.json`);
  const metric = async (name: string, label: Record<string, string>) => {
    const m = await registry.getSingleMetric(name)?.get();
    return m?.values.find((v) => Object.entries(label).every(([k, val]) => v.labels[k] === val))?.value ?? 0;
  };
  const last = (name: string) => reports.filter((r) => r.name === name).at(-1);
  return { root, sync, put, del, file, reports, events, metric, profiles, last };
}

t.test('the seed profile lands at the documented path', async (t) => {
  const h = harness(t);
  await h.put({ defaultAction: 'SCMP_ACT_LOG' });
  t.equal(readFileSync(h.file('profile1'), 'utf8'), '{\n  "defaultAction": "SCMP_ACT_LOG"\n}\n');
  t.same(h.reports.at(-1), { name: 'profile1', state: 'Installed' });
  t.same(h.events, [{ name: 'profile1', type: 'Normal', reason: 'SavedSeccompProfile' }]);
  t.equal(await h.metric('security_profiles_operator_seccomp_profile_total', { operation: 'update' }), 1);
  await h.put({ defaultAction: 'SCMP_ACT_LOG' });
  t.equal(
    await h.metric('security_profiles_operator_seccomp_profile_total', { operation: 'update' }),
    1,
    'no change, no count',
  );
  t.equal(h.events.length, 1);
});

t.test('base profiles are merged into the file, and a base change rewrites dependents', async (t) => {
  const h = harness(t);
  await h.put(
    {
      defaultAction: 'SCMP_ACT_ERRNO',
      baseProfileName: 'runc-v1.1.5',
      syscalls: [{ action: 'SCMP_ACT_ALLOW', names: ['exit_group'] }],
    },
    'app',
  );
  t.same(JSON.parse(readFileSync(h.file('app'), 'utf8')).syscalls, [
    { names: ['clone', 'execve', 'exit_group'], action: 'SCMP_ACT_ALLOW' },
  ]);
  await h.put({ defaultAction: 'SCMP_ACT_ERRNO', baseProfileName: 'mybase' }, 'child');
  t.same(h.last('child'), {
    name: 'child',
    state: 'Error',
    message:
      'InvalidSeccompProfile: base profile "mybase" not found (chain: child -> mybase); create it in the same namespace or use a built-in base',
  });
  t.notOk(existsSync(h.file('child')));
  t.equal(
    await h.metric('security_profiles_operator_seccomp_profile_error_total', {
      reason: 'InvalidSeccompProfile',
    }),
    1,
  );
  await h.put(
    { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ action: 'SCMP_ACT_ALLOW', names: ['read'] }] },
    'mybase',
  );
  t.same(JSON.parse(readFileSync(h.file('child'), 'utf8')).syscalls, [
    { names: ['read'], action: 'SCMP_ACT_ALLOW' },
  ]);
});

t.test('an invalid update keeps the previous file', async (t) => {
  const h = harness(t);
  await h.put({ defaultAction: 'SCMP_ACT_LOG' });
  await h.put({ defaultAction: 'SCMP_ACT_LOG', baseProfileName: 'profile1' });
  t.equal(h.reports.at(-1)?.state, 'Error');
  t.match(h.reports.at(-1)?.message, /cycle: profile1 -> profile1/);
  t.equal(readFileSync(h.file('profile1'), 'utf8'), '{\n  "defaultAction": "SCMP_ACT_LOG"\n}\n');
});

t.test('partial, terminating and deleted profiles', async (t) => {
  const h = harness(t);
  await h.put({ defaultAction: 'SCMP_ACT_ERRNO' }, 'rec-ctr-0', { labels: { [PARTIAL_LABEL]: 'true' } });
  t.notOk(existsSync(h.file('rec-ctr-0')), 'partial profiles never reach disk');
  t.equal(h.reports.at(-1)?.state, 'Partial');
  await h.put({ defaultAction: 'SCMP_ACT_LOG' }, 'used');
  await h.put({ defaultAction: 'SCMP_ACT_LOG' }, 'used', { deletionTimestamp: new Date().toISOString() });
  t.equal(h.reports.at(-1)?.state, 'Terminating');
  t.ok(existsSync(h.file('used')), 'file kept while terminating');
  await h.del('used');
  t.notOk(existsSync(h.file('used')));
  t.equal(await h.metric('security_profiles_operator_seccomp_profile_total', { operation: 'delete' }), 1);
});

t.test('resync removes files of profiles deleted while the daemon was away', async (t) => {
  const h = harness(t);
  await h.put({ defaultAction: 'SCMP_ACT_LOG' }, 'keep');
  await h.put({ defaultAction: 'SCMP_ACT_LOG' }, 'gone');
  h.profiles.delete('my-namespace/gone');
  await h.sync.resync();
  t.ok(existsSync(h.file('keep')));
  t.notOk(existsSync(h.file('gone')));
});

t.test('a node without seccomp writes nothing and says why', async (t) => {
  const h = harness(t, { supported: false });
  await h.put({ defaultAction: 'SCMP_ACT_LOG' });
  t.notOk(existsSync(h.file('profile1')));
  t.match(h.reports.at(-1), { state: 'Error', message: /SeccompNotSupportedOnNode/ });
  t.equal(
    await h.metric('security_profiles_operator_seccomp_profile_error_total', {
      reason: 'SeccompNotSupportedOnNode',
    }),
    1,
  );
});

t.test('this kernel supports seccomp filters', async (t) => {
  t.ok(await seccompSupported());
  t.notOk(await seccompSupported(t.testdir()));
});

t.test("single-namespace mode: a resync leaves other namespaces' files alone", async (t) => {
  const h = harness(t, { namespace: 'my-namespace' });
  await h.put({ defaultAction: 'SCMP_ACT_LOG' }, 'gone');
  const foreign = join(h.root, 'operator/other-namespace/theirs.json');
  mkdirSync(dirname(foreign), { recursive: true });
  writeFileSync(foreign, '{}\n');
  h.profiles.delete('my-namespace/gone');
  await h.sync.resync();
  t.notOk(existsSync(h.file('gone')), 'a stale file of the watched namespace is removed');
  t.ok(existsSync(foreign), "another install's file is kept");
  const all = harness(t);
  mkdirSync(join(all.root, 'operator/other-namespace'), { recursive: true });
  writeFileSync(join(all.root, 'operator/other-namespace/theirs.json'), '{}\n');
  await all.sync.resync();
  t.notOk(
    existsSync(join(all.root, 'operator/other-namespace/theirs.json')),
    'cluster-wide mode owns every file',
  );
});
