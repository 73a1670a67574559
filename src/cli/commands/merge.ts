import { UsageError } from '../../errors.js';
import { resolveBase } from '../../profiles/base.js';
import { seccompProfileResource } from '../../profiles/convert.js';
import { diffSpecs, formatDiff } from '../../profiles/diff.js';
import { isSuperset, mergeSpecs } from '../../profiles/merge.js';
import { type Command, EXIT_INVALID, EXIT_OK } from '../command.js';
import {
  emitProfile,
  loadBases,
  loadProfile,
  outputFormat,
  parseCommandArgs,
  parseFormat,
} from '../profile-inputs.js';

export const mergeCommand: Command = {
  name: 'merge',
  summary: 'union of several profiles (or check that the first covers the rest)',
  usage: `Usage: seccompctl merge FILE... [-o OUT] [--format cr|raw] [--name NAME] [--base FILE]... [--check]

Merges profiles (SeccompProfile YAML or raw seccomp JSON, mixed freely) into their union: every call any
input lets through is let through; per syscall the least restrictive action wins; argument rules are kept.

  -o, --output OUT   write the result to OUT (atomically) instead of standard output
  --format cr|raw    output format; default from OUT's extension (.json raw, .yaml cr), else the first input's
  --name NAME        metadata.name of the result (default: the first input's)
  --base FILE        a base profile that a baseProfileName refers to; resolved before merging (repeatable)
  --check            write nothing; exit 0 if the first FILE already allows everything the others do,
                     1 (listing what is missing) if not

Exit codes: 0 ok, 1 invalid input or --check found gaps, 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      output: { type: 'string', short: 'o' },
      format: { type: 'string' },
      name: { type: 'string' },
      base: { type: 'string', multiple: true },
      check: { type: 'boolean' },
    });
    if (positionals.length < 2) throw new UsageError('merge needs at least two FILEs');
    if (values.check && values.output !== undefined) throw new UsageError('--check writes nothing; drop -o');
    const format = parseFormat(values.format, '--format');
    const inputs = [];
    for (const file of positionals) inputs.push(await loadProfile(file, io));
    const bases = await loadBases(values.base ?? [], io);
    const specs = inputs.map((p) =>
      p.profile.spec.baseProfileName === undefined
        ? p.profile.spec
        : resolveBase(p.profile.spec, bases, { self: p.profile.metadata.name }),
    );
    const [first, ...rest] = specs;
    if (values.check) {
      if (isSuperset(first!, rest)) {
        io.stdout.write(`${positionals[0]} covers every other profile\n`);
        return EXIT_OK;
      }
      const gaps = diffSpecs(first!, mergeSpecs(specs));
      io.stdout.write(`${positionals[0]} does not cover the others; the union adds:\n`);
      const lines = formatDiff(gaps, { from: first!.defaultAction, to: mergeSpecs(specs).defaultAction });
      for (const line of lines) io.stdout.write(`  ${line}\n`);
      return EXIT_INVALID;
    }
    const firstProfile = inputs[0]!.profile;
    const merged = seccompProfileResource(
      {
        name: values.name ?? firstProfile.metadata.name,
        ...(firstProfile.metadata.namespace !== undefined
          ? { namespace: firstProfile.metadata.namespace }
          : {}),
      },
      mergeSpecs(specs),
    );
    await emitProfile(merged, outputFormat(format, values.output, inputs[0]!.format), values.output, io);
    return EXIT_OK;
  },
};
