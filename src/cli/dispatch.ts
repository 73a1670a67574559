import { isAppError, UsageError } from '../errors.js';
import { type CliIo, type Command, type CommandEntry, EXIT_INVALID, EXIT_OK, EXIT_USAGE } from './command.js';

function overview(commands: readonly CommandEntry[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `seccompctl ${version}: seccomp profiles for Kubernetes workloads and local commands

Usage: seccompctl <command> [options]
       seccompctl <command> --help

Commands:
${lines.join('\n')}
`;
}

/**
 * Runs one command line and returns the exit code; never throws and never exits the process. Only the
 * command named is loaded.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  commands: readonly CommandEntry[],
  version: string,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(overview(commands, version));
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version') {
    io.stdout.write(`${version}\n`);
    return EXIT_OK;
  }
  const entry = commands.find((c) => c.name === name);
  if (entry === undefined) {
    io.stderr.write(`seccompctl: unknown command "${name}"\n\n${overview(commands, version)}`);
    return EXIT_USAGE;
  }
  let command: Command;
  try {
    command = await entry.load();
  } catch (e) {
    io.stderr.write(`seccompctl ${name}: cannot load the command: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT_INVALID;
  }
  // `--` ends option parsing for commands that run another program, so only look for --help before it.
  const ownArgs = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (ownArgs.includes('--help') || ownArgs.includes('-h')) {
    io.stdout.write(`${command.usage}\n`);
    return EXIT_OK;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`seccompctl ${name}: ${e.message}\nRun "seccompctl ${name} --help" for usage.\n`);
      return EXIT_USAGE;
    }
    if (isAppError(e)) {
      io.stderr.write(`seccompctl ${name}: ${e.message}\n`);
      return EXIT_INVALID;
    }
    io.stderr.write(`seccompctl ${name}: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT_INVALID;
  }
}
