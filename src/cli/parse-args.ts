import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from '../errors.js';

/** node:util parseArgs with its errors turned into usage errors (exit 2). */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  options: O,
) {
  try {
    return parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>({
      args: [...args],
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
