import type { Operation } from 'fast-json-patch';

/** What a webhook decided for one pod: the patch to return, warnings for the user, reasons for the log. */
export interface Decision {
  readonly patch: Operation[];
  readonly warnings: string[];
  readonly reasons: string[];
}

export function emptyDecision(): Decision {
  return { patch: [], warnings: [], reasons: [] };
}
