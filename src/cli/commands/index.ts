import type { Command } from '../command.js';
import { convertCommand } from './convert.js';
import { daemonCommand } from './daemon.js';
import { diffCommand } from './diff.js';
import { enricherCommand } from './enricher.js';
import { managerCommand } from './manager.js';
import { mergeCommand } from './merge.js';
import { recordCommand } from './record.js';
import { recorderCommand } from './recorder.js';
import { runCommand } from './run.js';
import { validateCommand } from './validate.js';
import { webhookCommand } from './webhook.js';

/** Every subcommand `seccompctl` lists; only commands that work belong here. */
export const COMMANDS: readonly Command[] = [
  validateCommand,
  mergeCommand,
  diffCommand,
  convertCommand,
  recordCommand,
  runCommand,
  webhookCommand,
  managerCommand,
  daemonCommand,
  enricherCommand,
  recorderCommand,
];
