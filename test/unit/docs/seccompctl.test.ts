// docs/seccompctl.md must have a section for every command `seccompctl --help` lists, naming every option the
// command's usage names, so a new command or option cannot ship undocumented.
import t from 'tap';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { readDoc, section } from './markdown.js';

const doc = readDoc('seccompctl.md');

/** Long options of a usage text (`--kubeconfig`), without the bare `--` that ends option parsing. */
function longOptions(usage: string): string[] {
  return [...new Set([...usage.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]))];
}

t.ok(COMMANDS.length >= 11, 'the commands are there to check');
for (const command of COMMANDS) {
  t.test(`seccompctl ${command.name}`, async (t) => {
    const text = section(doc, `## seccompctl ${command.name}`);
    if (text === undefined) {
      t.fail(`docs/seccompctl.md has no "## seccompctl ${command.name}" section`);
      return;
    }
    const options = longOptions((await command.load()).usage);
    const roleOptions = section(doc, '## Role options') ?? '';
    t.same(
      options.filter(
        (o) => !text.includes(`\`${o}`) && !(text.includes('Role options') && roleOptions.includes(`\`${o}`)),
      ),
      [],
      `every option of ${command.name} is documented (${options.join(' ')})`,
    );
    t.match(text, /```\nseccompctl /, 'with its synopsis');
  });
}

t.test('no section for a command that does not exist', async (t) => {
  const names = new Set(COMMANDS.map((c) => c.name));
  const sections = [...doc.matchAll(/^## seccompctl (\S+)$/gm)].map((m) => m[1] as string);
  t.same(
    sections.filter((s) => !names.has(s)),
    [],
    'every "## seccompctl X" section is a command',
  );
});
