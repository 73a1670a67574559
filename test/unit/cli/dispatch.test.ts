import { PassThrough } from 'node:stream';
import t from 'tap';
import { type Command, type CommandEntry, loadedEntry } from '../../../src/cli/command.js';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { runCli } from '../../../src/cli/dispatch.js';
import { AppError, UsageError } from '../../../src/errors.js';

function fake(name: string, run: Command['run'] = async () => 0) {
  const loads: string[] = [];
  const command: Command = {
    name,
    summary: `the ${name} command`,
    usage: `Usage: seccompctl ${name}\n\nExit codes: 0`,
    run,
  };
  const entry: CommandEntry = {
    name,
    summary: command.summary,
    load: async () => {
      loads.push(name);
      return command;
    },
  };
  return { entry, loads };
}

async function cli(argv: string[], commands: readonly CommandEntry[]) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  err.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await runCli(argv, { stdout: out, stderr: err, cwd: '/', env: {} }, commands, '1.2.3');
  return { code, stdout, stderr };
}

t.test('only the command named is loaded, and only when it is named', async (t) => {
  const a = fake('alpha', async (args) => (args[0] === 'fail' ? 7 : 0));
  const b = fake('beta');
  const commands = [a.entry, b.entry];

  const overview = await cli(['--help'], commands);
  t.equal(overview.code, 0);
  t.match(overview.stdout, /^seccompctl 1\.2\.3: .*\n\nUsage: seccompctl <command> \[options\]\n/);
  t.match(overview.stdout, /\n {2}alpha {2}the alpha command\n {2}beta {3}the beta command\n$/);
  t.same([(await cli([], commands)).code, (await cli(['help'], commands)).code], [2, 0]);
  t.same((await cli(['--version'], commands)).stdout, '1.2.3\n');
  const unknown = await cli(['gamma'], commands);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /^seccompctl: unknown command "gamma"\n\nseccompctl 1\.2\.3/);
  t.same([...a.loads, ...b.loads], [], 'overview, version and unknown commands load nothing');

  const help = await cli(['alpha', '--help'], commands);
  t.same([help.code, help.stdout], [0, 'Usage: seccompctl alpha\n\nExit codes: 0\n']);
  t.same(
    [(await cli(['alpha', 'x', '-h'], commands)).code, (await cli(['alpha', 'fail'], commands)).code],
    [0, 7],
  );
  t.equal((await cli(['alpha', '--', '--help'], commands)).code, 0, '--help after -- goes to the command');
  t.same(a.loads, ['alpha', 'alpha', 'alpha', 'alpha']);
  t.same(b.loads, [], 'beta was never loaded');
});

t.test('errors keep their exit codes', async (t) => {
  const throwing = (e: unknown) =>
    loadedEntry({ ...fake('x').entry, usage: 'u', run: () => Promise.reject(e) });
  const usage = await cli(['x'], [throwing(new UsageError('bad flag'))]);
  t.same([usage.code, usage.stderr], [2, 'seccompctl x: bad flag\nRun "seccompctl x --help" for usage.\n']);
  const app = await cli(['x'], [throwing(new AppError('ERR_CONFIG', 'no kubeconfig'))]);
  t.same([app.code, app.stderr], [1, 'seccompctl x: no kubeconfig\n']);
  const bug = await cli(['x'], [throwing(new TypeError('oops'))]);
  t.equal(bug.code, 1);
  t.match(bug.stderr, /^seccompctl x: internal error: TypeError: oops/);
  const broken: CommandEntry = {
    name: 'y',
    summary: 's',
    load: () => Promise.reject(new Error('addon missing')),
  };
  const load = await cli(['y', '--help'], [broken]);
  t.equal(load.code, 1);
  t.match(load.stderr, /^seccompctl y: cannot load the command: Error: addon missing/);
});

t.test('every entry loads the command it names, with the summary the module has', async (t) => {
  t.ok(COMMANDS.length >= 11);
  t.equal(new Set(COMMANDS.map((c) => c.name)).size, COMMANDS.length, 'names are unique');
  for (const entry of COMMANDS) {
    const command = await entry.load();
    t.same([command.name, command.summary], [entry.name, entry.summary], entry.name);
  }
});
