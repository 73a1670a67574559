import t from 'tap';
import {
  DEFAULT_PROFILING_PORTS,
  type Role,
  roleSettings,
  watchNamespace,
} from '../../../src/config/role.js';
import { UsageError } from '../../../src/errors.js';
import { seccompctl } from '../../helpers/cli.js';

const ROLES: readonly Role[] = ['webhook', 'manager', 'daemon', 'recorder', 'enricher'];

/** The message of the UsageError `fn` throws, or a note that it threw something else or nothing. */
function usageError(fn: () => unknown): string {
  try {
    fn();
    return '(no error)';
  } catch (err) {
    return err instanceof UsageError ? err.message : `(not a usage error: ${String(err)})`;
  }
}

t.test('verbosity and log level: flags over env, an explicit level over verbosity', async (t) => {
  const cases: Array<{
    name: string;
    flags?: Record<string, string | boolean>;
    env?: Record<string, string>;
    verbosity: 0 | 1;
    level: string;
  }> = [
    { name: 'defaults', verbosity: 0, level: 'info' },
    { name: '--verbosity 1', flags: { verbosity: '1' }, verbosity: 1, level: 'debug' },
    { name: '--verbosity 0', flags: { verbosity: '0' }, verbosity: 0, level: 'info' },
    { name: 'SPO_VERBOSITY=1', env: { SPO_VERBOSITY: '1' }, verbosity: 1, level: 'debug' },
    {
      name: '--log-level wins over --verbosity',
      flags: { verbosity: '1', 'log-level': 'warn' },
      verbosity: 1,
      level: 'warn',
    },
    {
      name: 'LOG_LEVEL wins over SPO_VERBOSITY',
      env: { SPO_VERBOSITY: '1', LOG_LEVEL: 'error' },
      verbosity: 1,
      level: 'error',
    },
    {
      name: '--verbosity (a flag) wins over LOG_LEVEL (env)',
      flags: { verbosity: '1' },
      env: { LOG_LEVEL: 'warn' },
      verbosity: 1,
      level: 'debug',
    },
    {
      name: '--verbosity wins over SPO_VERBOSITY',
      flags: { verbosity: '0' },
      env: { SPO_VERBOSITY: '1' },
      verbosity: 0,
      level: 'info',
    },
    { name: 'LOG_LEVEL alone', env: { LOG_LEVEL: 'TRACE' }, verbosity: 0, level: 'trace' },
    { name: 'empty env is unset', env: { SPO_VERBOSITY: '', LOG_LEVEL: '' }, verbosity: 0, level: 'info' },
  ];
  for (const c of cases) {
    const s = roleSettings('daemon', c.flags ?? {}, c.env ?? {});
    t.equal(s.verbosity, c.verbosity, `${c.name}: verbosity`);
    t.equal(s.logLevel, c.level, `${c.name}: level`);
  }
});

t.test('bad verbosity, level or profiling values are usage errors naming what is allowed', async (t) => {
  const cases: Array<{ flags?: Record<string, string>; env?: Record<string, string>; message: RegExp }> = [
    { flags: { verbosity: '2' }, message: /^--verbosity must be 0 or 1 .*not "2"/ },
    { flags: { verbosity: 'debug' }, message: /^--verbosity must be 0 or 1/ },
    { flags: { verbosity: '' }, message: /^--verbosity must be 0 or 1/ },
    { flags: { verbosity: '1.0' }, message: /^--verbosity must be 0 or 1/ },
    { env: { SPO_VERBOSITY: '-1' }, message: /^SPO_VERBOSITY must be 0 or 1/ },
    { flags: { 'log-level': 'loud' }, message: /^--log-level must be one of trace, debug, info/ },
    { env: { LOG_LEVEL: 'loud' }, message: /^LOG_LEVEL must be one of/ },
    { env: { SPO_ENABLE_PROFILING: 'yes' }, message: /^SPO_ENABLE_PROFILING must be true or false/ },
    {
      flags: { 'profiling-port': '70000' },
      message: /^--profiling-port must be a port number from 0 to 65535/,
    },
    { flags: { 'profiling-port': 'http' }, message: /^--profiling-port must be a port number/ },
    { env: { SPO_PROFILING_PORT: '-1' }, message: /^SPO_PROFILING_PORT must be a port number/ },
  ];
  for (const c of cases) {
    t.match(
      usageError(() => roleSettings('webhook', c.flags ?? {}, c.env ?? {})),
      c.message,
      JSON.stringify(c),
    );
  }
});

t.test('profiling: off by default, on by flag or env, one default port per role', async (t) => {
  t.equal(roleSettings('daemon', {}, {}).profiling, undefined);
  t.equal(
    roleSettings('daemon', { 'profiling-port': '7000' }, {}).profiling,
    undefined,
    'a port alone is not on',
  );
  t.equal(roleSettings('daemon', {}, { SPO_ENABLE_PROFILING: 'false' }).profiling, undefined);
  for (const role of ROLES) {
    t.same(roleSettings(role, { 'enable-profiling': true }, {}).profiling, {
      port: DEFAULT_PROFILING_PORTS[role],
    });
    t.same(roleSettings(role, {}, { SPO_ENABLE_PROFILING: 'true' }).profiling, {
      port: DEFAULT_PROFILING_PORTS[role],
    });
  }
  t.same(DEFAULT_PROFILING_PORTS, {
    daemon: 6060,
    enricher: 6061,
    recorder: 6062,
    manager: 6063,
    webhook: 6064,
  });
  t.same(
    roleSettings(
      'daemon',
      { 'enable-profiling': true, 'profiling-port': '0' },
      { SPO_PROFILING_PORT: '7000' },
    ).profiling,
    { port: 0 },
    'the flag wins over the env; 0 picks a free port',
  );
  t.same(
    roleSettings('enricher', {}, { SPO_ENABLE_PROFILING: 'true', SPO_PROFILING_PORT: '7001' }).profiling,
    {
      port: 7001,
    },
  );
});

t.test('watch namespace: flag over env, DNS-1123 only', async (t) => {
  t.equal(watchNamespace(undefined, {}), undefined);
  t.equal(watchNamespace(undefined, { SPO_WATCH_NAMESPACE: '' }), undefined, 'empty env is unset');
  t.equal(watchNamespace(undefined, { SPO_WATCH_NAMESPACE: 'team-a' }), 'team-a');
  t.equal(watchNamespace('team-b', { SPO_WATCH_NAMESPACE: 'team-a' }), 'team-b');
  for (const bad of ['', 'Team', 'a_b', '-a', 'a-', 'a'.repeat(64), 'a/b']) {
    t.match(
      usageError(() => watchNamespace(bad, {})),
      /^--watch-namespace must be a namespace name/,
      JSON.stringify(bad),
    );
  }
  t.match(
    usageError(() => watchNamespace(undefined, { SPO_WATCH_NAMESPACE: 'NS_REPLACE' })),
    /^SPO_WATCH_NAMESPACE must be/,
  );
});

t.test('the CLI: usage errors exit 2 before anything starts; every role documents the flags', async (t) => {
  const dir = t.testdir();
  for (const role of ROLES) {
    const bad = await seccompctl([role, '--verbosity', '3'], dir);
    t.equal(bad.code, 2, `${role} --verbosity 3`);
    t.match(bad.stderr, new RegExp(`^seccompctl ${role}: --verbosity must be 0 or 1`));
    t.equal(bad.stdout, '', `${role}: nothing logged before the settings are valid`);
    const port = await seccompctl([role, '--enable-profiling', '--profiling-port', 'x'], dir);
    t.equal(port.code, 2, `${role} --profiling-port x`);
    const help = await seccompctl([role, '--help'], dir);
    for (const flag of ['--verbosity 0|1', '--enable-profiling', '--profiling-port PORT', '--log-level']) {
      t.ok(help.stdout.includes(flag), `${role} --help documents ${flag}`);
    }
    t.ok(help.stdout.includes(`default ${DEFAULT_PROFILING_PORTS[role]}`), `${role}: its profiling port`);
    const watches = ['webhook', 'manager', 'daemon'].includes(role);
    t.equal(help.stdout.includes('--watch-namespace NS'), watches, `${role}: --watch-namespace documented`);
    const ns = await seccompctl([role, '--watch-namespace', 'Bad_NS'], dir);
    t.equal(ns.code, 2, `${role} --watch-namespace Bad_NS`);
    t.match(
      ns.stderr,
      watches ? /--watch-namespace must be a namespace name/ : /Unknown option '--watch-namespace'/,
    );
  }
});
