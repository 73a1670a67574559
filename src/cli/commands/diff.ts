import { UsageError } from '../../errors.js';
import { resolveBase } from '../../profiles/base.js';
import { diffSpecs, formatDiff, isEmptyDiff } from '../../profiles/diff.js';
import { type Command, EXIT_OK } from '../command.js';
import { loadBases, loadProfile, parseCommandArgs } from '../profile-inputs.js';

/** Exit status of `diff --exit-code` when the profiles differ; 1 and 2 already mean invalid input and usage. */
export const EXIT_DIFFERENT = 3;

export const diffCommand: Command = {
  name: 'diff',
  summary: 'what changes in behaviour from profile A to profile B',
  usage: `Usage: seccompctl diff A B [--base FILE]... [--exit-code]

Compares what two profiles do, not how they are written: order, grouping and redundant rules are ignored.
Lines: "+ name" newly listed in B, "- name" listed only in A, "~" changed action or arguments.

  --base FILE    a base profile that a baseProfileName refers to (repeatable)
  --exit-code    exit ${EXIT_DIFFERENT} when the profiles differ (0 when they behave the same)

Exit codes: 0 compared, ${EXIT_DIFFERENT} different (with --exit-code), 1 invalid input, 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      base: { type: 'string', multiple: true },
      'exit-code': { type: 'boolean' },
    });
    if (positionals.length !== 2) throw new UsageError('diff needs exactly two FILEs');
    const [a, b] = [await loadProfile(positionals[0]!, io), await loadProfile(positionals[1]!, io)];
    const bases = await loadBases(values.base ?? [], io);
    const resolve = (p: typeof a) =>
      p.profile.spec.baseProfileName === undefined
        ? p.profile.spec
        : resolveBase(p.profile.spec, bases, { self: p.profile.metadata.name });
    const [sa, sb] = [resolve(a), resolve(b)];
    const d = diffSpecs(sa, sb);
    if (isEmptyDiff(d)) {
      io.stdout.write('no differences\n');
      return EXIT_OK;
    }
    for (const line of formatDiff(d, { from: sa.defaultAction, to: sb.defaultAction }))
      io.stdout.write(`${line}\n`);
    return values['exit-code'] ? EXIT_DIFFERENT : EXIT_OK;
  },
};
