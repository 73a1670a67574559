/** What a subcommand may touch: everything process-wide comes in here, so commands are testable in-process. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Exit codes shared by every offline command. */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

export interface Command {
  readonly name: string;
  /** One line for `seccompctl --help`. */
  readonly summary: string;
  /** Full text for `seccompctl <name> --help`. */
  readonly usage: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/**
 * What `seccompctl` knows of a command before loading it: enough for the overview. `load()` imports the
 * module, so a role loads its own code only (the daemon never loads the webhook, the CLI tools no client).
 */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

/** An entry for a command that is already loaded (tests, embedders). */
export function loadedEntry(command: Command): CommandEntry {
  return { name: command.name, summary: command.summary, load: () => Promise.resolve(command) };
}
