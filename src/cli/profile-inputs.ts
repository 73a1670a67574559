import { UsageError } from '../errors.js';
import type { BaseLookup } from '../profiles/base.js';
import { nameFromFileName } from '../profiles/convert.js';
import { type ParsedProfile, parseProfileText, renderProfile } from '../profiles/document.js';
import { formatIssue } from '../profiles/issues.js';
import type { SeccompProfile, SeccompProfileSpec } from '../profiles/types.js';
import type { CliIo } from './command.js';
import { readTextFile, writeFileAtomic } from './files.js';

// Kept apart (parse-args.ts) so a role's command does not load the profile parsers (yaml, ajv) for its flags.
export { parseCommandArgs } from './parse-args.js';

export type Format = 'cr' | 'raw';

export function parseFormat(value: string | undefined, flag: string): Format | undefined {
  if (value === undefined) return undefined;
  if (value === 'cr' || value === 'raw') return value;
  throw new UsageError(`${flag} must be cr or raw, not "${value}"`);
}

/** The output format: explicit flag, else the output file's extension, else the fallback. */
export function outputFormat(
  explicit: Format | undefined,
  out: string | undefined,
  fallback: Format,
): Format {
  if (explicit !== undefined) return explicit;
  if (out !== undefined && /\.json$/i.test(out)) return 'raw';
  if (out !== undefined && /\.ya?ml$/i.test(out)) return 'cr';
  return fallback;
}

export async function loadProfile(path: string, io: CliIo): Promise<ParsedProfile> {
  const parsed = parseProfileText(await readTextFile(path, io.cwd), path, nameFromFileName(path));
  for (const w of parsed.warnings) io.stderr.write(`${path}: warning: ${formatIssue(w)}\n`);
  return parsed;
}

/** Base profiles given on the command line, found by resource name (raw files by file name). */
export async function loadBases(paths: readonly string[], io: CliIo): Promise<BaseLookup> {
  const byName = new Map<string, SeccompProfileSpec>();
  for (const path of paths) {
    const { profile } = await loadProfile(path, io);
    byName.set(profile.metadata.name, profile.spec);
  }
  return (name) => byName.get(name);
}

export async function emitProfile(
  profile: SeccompProfile,
  format: Format,
  out: string | undefined,
  io: CliIo,
) {
  const text = renderProfile(profile, format);
  if (out === undefined) io.stdout.write(text);
  else await writeFileAtomic(out, text, io.cwd);
}
