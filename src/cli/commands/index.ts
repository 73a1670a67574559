import type { Command } from '../command.js';
import { convertCommand } from './convert.js';
import { diffCommand } from './diff.js';
import { mergeCommand } from './merge.js';
import { recordCommand } from './record.js';
import { runCommand } from './run.js';
import { validateCommand } from './validate.js';

/** Every subcommand `seccompctl` lists; only commands that work belong here. */
export const COMMANDS: readonly Command[] = [
  validateCommand,
  mergeCommand,
  diffCommand,
  convertCommand,
  recordCommand,
  runCommand,
];
