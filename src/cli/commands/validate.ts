import { UsageError } from '../../errors.js';
import { checkDocument, DocumentError, parseDocuments } from '../../profiles/document.js';
import { formatIssue } from '../../profiles/issues.js';
import { type Command, EXIT_INVALID, EXIT_OK } from '../command.js';
import { readTextFile } from '../files.js';
import { parseCommandArgs } from '../profile-inputs.js';

function describe(value: unknown): string {
  const doc = value as { kind?: unknown; metadata?: { name?: unknown } };
  const name = typeof doc.metadata?.name === 'string' ? ` "${doc.metadata.name}"` : '';
  return typeof doc.kind === 'string' ? `${doc.kind}${name}` : 'raw seccomp profile';
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check profiles, bindings and recordings against the CRD schema',
  usage: `Usage: seccompctl validate FILE...

Checks each document in each FILE (YAML or JSON, several documents per file allowed): SeccompProfile,
ProfileBinding and ProfileRecording resources against their CRD schemas, and raw OCI seccomp JSON.
Every problem is printed as FILE: [document N: ]FIELD: MESSAGE.

Exit codes: 0 all valid, 1 something invalid or unreadable, 2 usage error.`,
  async run(args, io) {
    const { positionals } = parseCommandArgs(args, {});
    if (positionals.length === 0) throw new UsageError('validate needs at least one FILE');
    let failed = false;
    for (const file of positionals) {
      let docs: unknown[];
      try {
        docs = parseDocuments(await readTextFile(file, io.cwd), file);
      } catch (e) {
        failed = true;
        io.stderr.write(`${e instanceof DocumentError ? e.message : (e as Error).message}\n`);
        continue;
      }
      docs.forEach((value, i) => {
        const where = docs.length > 1 ? `${file}: document ${i + 1}` : file;
        const { result } = checkDocument(value);
        for (const w of result.warnings) io.stderr.write(`${where}: warning: ${formatIssue(w)}\n`);
        if (result.errors.length === 0) {
          io.stdout.write(`${where}: ok (${describe(value)})\n`);
          return;
        }
        failed = true;
        for (const err of result.errors) io.stderr.write(`${where}: ${formatIssue(err)}\n`);
      });
    }
    return failed ? EXIT_INVALID : EXIT_OK;
  },
};
