import { UsageError } from '../../errors.js';
import { resolveBase } from '../../profiles/base.js';
import { seccompProfileResource } from '../../profiles/convert.js';
import { type Command, EXIT_OK } from '../command.js';
import {
  emitProfile,
  loadBases,
  loadProfile,
  outputFormat,
  parseCommandArgs,
  parseFormat,
} from '../profile-inputs.js';

export const convertCommand: Command = {
  name: 'convert',
  summary: 'SeccompProfile YAML <-> raw OCI seccomp JSON',
  usage: `Usage: seccompctl convert FILE [--to raw|cr] [-o OUT] [--name NAME] [--namespace NS] [--base FILE]...

Converts a SeccompProfile resource to the raw JSON the kubelet hands to runc/crun, or raw JSON to a resource.
Nothing is dropped silently: raw fields a resource cannot carry, and unresolved base profiles, are errors.

  --to raw|cr        target format (default: the other one; or from OUT's extension)
  -o, --output OUT   write to OUT (atomically) instead of standard output
  --name NAME        metadata.name when converting to a resource (default: from the file name)
  --namespace NS     metadata.namespace when converting to a resource
  --base FILE        base profile for baseProfileName; required to write raw JSON from a profile with a base

Exit codes: 0 ok, 1 invalid input, 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      to: { type: 'string' },
      output: { type: 'string', short: 'o' },
      name: { type: 'string' },
      namespace: { type: 'string' },
      base: { type: 'string', multiple: true },
    });
    if (positionals.length !== 1) throw new UsageError('convert needs exactly one FILE');
    const input = await loadProfile(positionals[0]!, io);
    const to = outputFormat(
      parseFormat(values.to, '--to'),
      values.output,
      input.format === 'cr' ? 'raw' : 'cr',
    );
    let profile = input.profile;
    if (values.name !== undefined || values.namespace !== undefined) {
      const meta = profile.metadata;
      profile = seccompProfileResource(
        {
          ...meta,
          name: values.name ?? meta.name,
          ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
        },
        profile.spec,
      );
    }
    if (to === 'raw' && profile.spec.baseProfileName !== undefined && (values.base ?? []).length > 0) {
      const spec = resolveBase(profile.spec, await loadBases(values.base ?? [], io), {
        self: profile.metadata.name,
      });
      profile = { ...profile, spec };
    }
    await emitProfile(profile, to, values.output, io);
    return EXIT_OK;
  },
};
