import type { Action } from './types.js';

// How much an action lets through, least restrictive first. Both kill spellings stop the process or thread,
// which is as restrictive as seccomp gets; TRACE and NOTIFY hand the call to another process, which may allow it.
const RANK: Readonly<Record<Action, number>> = {
  SCMP_ACT_ALLOW: 0,
  SCMP_ACT_LOG: 1,
  SCMP_ACT_NOTIFY: 2,
  SCMP_ACT_TRACE: 3,
  SCMP_ACT_ERRNO: 4,
  SCMP_ACT_TRAP: 5,
  SCMP_ACT_KILL_THREAD: 6,
  SCMP_ACT_KILL: 6,
  SCMP_ACT_KILL_PROCESS: 7,
};

export function restrictiveness(action: Action): number {
  return RANK[action];
}

/** The least restrictive of the given actions; ties keep the first. */
export function leastRestrictive(actions: readonly Action[]): Action {
  let best = actions[0];
  if (best === undefined) throw new RangeError('leastRestrictive needs at least one action');
  for (const action of actions) if (RANK[action] < RANK[best]) best = action;
  return best;
}
