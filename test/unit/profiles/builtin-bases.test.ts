import t from 'tap';
import { resolveBase } from '../../../src/profiles/base.js';
import { BUILTIN_BASES, basesFrom, resolveBuiltinBase } from '../../../src/profiles/builtin-bases.js';
import type { RecordedBase } from '../../../src/profiles/builtin-bases.generated.js';

const rec = (runtime: 'runc' | 'crun', version: string, syscalls: string[]): RecordedBase => ({
  runtime,
  version,
  kernel: 'test',
  syscalls,
});

const bases = basesFrom({
  'runc-v1.1.5': rec('runc', '1.1.5', ['close', 'execve']),
  'runc-v1.2.0': rec('runc', '1.2.0', ['close', 'execve', 'openat']),
  'crun-v1.8.1': rec('crun', '1.8.1', ['execve']),
});

t.test('name mapping', async (t) => {
  const cases: { asked: string; used: string | undefined; warns: boolean }[] = [
    { asked: 'runc-v1.1.5', used: 'runc-v1.1.5', warns: false },
    { asked: 'runc-v1.0.0', used: 'runc-v1.1.5', warns: true },
    { asked: 'runc-v1.1.6', used: 'runc-v1.2.0', warns: true },
    { asked: 'runc-v1.10.0', used: 'runc-v1.2.0', warns: true },
    { asked: 'runc-v2.0.0', used: 'runc-v1.2.0', warns: true },
    { asked: 'crun-v0.20.1', used: 'crun-v1.8.1', warns: true },
    { asked: 'crun-v1.8.1', used: 'crun-v1.8.1', warns: false },
    { asked: 'runc-v1', used: undefined, warns: false },
    { asked: 'runc-latest', used: undefined, warns: false },
    { asked: 'youki-v0.1.0', used: undefined, warns: false },
    { asked: 'my-base', used: undefined, warns: false },
  ];
  for (const c of cases) {
    const got = resolveBuiltinBase(c.asked, bases);
    t.equal(got?.name, c.used, c.asked);
    t.equal(got?.warning !== undefined, c.warns, `${c.asked} warns`);
    if (c.warns)
      t.match(got?.warning, new RegExp(`"${c.asked}".*"${c.used}"`), `${c.asked} warning names both`);
  }
});

t.test('a runtime without a shipped base resolves to nothing', async (t) => {
  const onlyRunc = basesFrom({ 'runc-v1.1.5': rec('runc', '1.1.5', ['close']) });
  t.equal(resolveBuiltinBase('crun-v1.8.1', onlyRunc), undefined);
  t.equal(resolveBuiltinBase('runc-v1.0.0', basesFrom({})), undefined);
});

t.test('a base contributes its allow rules and never its default action', async (t) => {
  const spec = resolveBase(
    {
      defaultAction: 'SCMP_ACT_LOG',
      baseProfileName: 'runc-v1.0.0',
      syscalls: [{ action: 'SCMP_ACT_ALLOW', names: ['pause'] }],
    },
    (name) => resolveBuiltinBase(name, bases)?.spec,
  );
  t.equal(spec.defaultAction, 'SCMP_ACT_LOG');
  t.same(spec.syscalls?.flatMap((r) => r.names).sort(), ['close', 'execve', 'pause']);
});

t.test('the shipped table has the recorded runc base and the seed name resolves to it', async (t) => {
  const runc = [...BUILTIN_BASES.keys()].filter((n) => n.startsWith('runc-v'));
  t.ok(runc.length > 0, 'a runc base is shipped');
  const seed = resolveBuiltinBase('runc-v1.0.0');
  t.ok(seed !== undefined && runc.includes(seed.name), 'runc-v1.0.0 resolves to a shipped runc base');
  for (const name of runc) {
    const names = BUILTIN_BASES.get(name)?.syscalls?.flatMap((r) => r.names) ?? [];
    t.ok(names.includes('execve'), `${name} allows execve`);
    t.same(names, [...new Set(names)].sort(), `${name} is sorted and de-duplicated`);
  }
});

t.test('the shipped table has the recorded crun base and the seed crun name resolves to it', async (t) => {
  const crun = [...BUILTIN_BASES.keys()].filter((n) => n.startsWith('crun-v'));
  t.same(crun, ['crun-v1.8.1'], 'crun 1.8.1 (Debian) is shipped');
  const seed = resolveBuiltinBase('crun-v0.20.1');
  t.equal(seed?.name, 'crun-v1.8.1', 'the seed example names crun 0.20.1');
  t.match(seed?.warning, /"crun-v0\.20\.1".*"crun-v1\.8\.1"/);
  const names = BUILTIN_BASES.get('crun-v1.8.1')?.syscalls?.flatMap((r) => r.names) ?? [];
  t.ok(names.includes('execve'), 'allows execve');
  t.same(names, [...new Set(names)].sort(), 'sorted and de-duplicated');
  t.notOk(
    resolveBuiltinBase('runc-v1.0.0')?.name.startsWith('crun'),
    'a runc name never picks the crun base',
  );
});
