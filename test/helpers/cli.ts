import { PassThrough } from 'node:stream';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { runCli } from '../../src/cli/dispatch.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function capture() {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Runs seccompctl in-process, as the binary would, with output captured. */
export async function seccompctl(args: readonly string[], cwd: string): Promise<CliResult> {
  const out = capture();
  const err = capture();
  const code = await runCli(args, { stdout: out.stream, stderr: err.stream, cwd, env: {} }, COMMANDS, 'test');
  return { code, stdout: out.text(), stderr: err.text() };
}
