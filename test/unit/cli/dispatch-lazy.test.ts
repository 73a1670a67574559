// Which modules `seccompctl <command>` really loads, seen by a module-load hook in a real process: a command
// must not pay (in start-up time and memory) for the other roles' code.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';

const repo = join(import.meta.dirname, '../../..');
const main = join(repo, 'src/cli/main.ts');
const dir = t.testdir({
  'register.mjs': `import { register } from 'node:module';
register('./hooks.mjs', import.meta.url, { data: { out: process.env.LOADED_OUT } });
`,
  'hooks.mjs': `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function load(url, context, next) {
  appendFileSync(out, url + '\\n');
  return next(url, context);
}
`,
});

function loaded(args: string[]): { code: number | null; modules: string[] } {
  const out = join(dir, `${args.join('_').replace(/[^a-z_-]/g, '')}.txt`);
  writeFileSync(out, '');
  const res = spawnSync(
    process.execPath,
    ['--import=tsx', `--import=${pathToFileURL(join(dir, 'register.mjs')).href}`, main, ...args],
    { cwd: repo, env: { ...process.env, LOADED_OUT: out }, encoding: 'utf8', timeout: 60_000 },
  );
  const root = pathToFileURL(repo).href;
  const modules = readFileSync(out, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith(root))
    .map((u) => u.slice(root.length + 1));
  return { code: res.status, modules };
}

const commandModules = (modules: string[]) =>
  modules.filter((m) => /^src\/cli\/commands\/(?!index\.ts$)/.test(m)).sort();

t.test('the overview loads no command', async (t) => {
  const { code, modules } = loaded(['--help']);
  t.equal(code, 0);
  t.ok(modules.includes('src/cli/commands/index.ts'), 'the hook saw the command index');
  t.same(commandModules(modules), []);
});

t.test('an offline command loads neither the roles nor a Kubernetes client', async (t) => {
  const { code, modules } = loaded(['validate', '--help']);
  t.equal(code, 0);
  t.same(commandModules(modules), ['src/cli/commands/validate.ts']);
  t.same(
    modules.filter(
      (m) => m.includes('@kubernetes/client-node') || /^src\/(webhook|manager|daemon)\//.test(m),
    ),
    [],
  );
});

t.test('a role loads its own command module only', async (t) => {
  const { code, modules } = loaded(['daemon', '--help']);
  t.equal(code, 0);
  // serve.ts holds what the long-running roles share (logger, signals).
  t.same(
    commandModules(modules).filter((m) => m !== 'src/cli/commands/serve.ts'),
    ['src/cli/commands/daemon.ts'],
  );
});
