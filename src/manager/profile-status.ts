import type { ProfileState } from '../profiles/types.js';

// Lowest wins: one node in Error makes the profile Error; all Installed makes it Installed.
const ORDER: readonly ProfileState[] = [
  'Error',
  'Terminating',
  'Partial',
  'Disabled',
  'Pending',
  'InProgress',
  'Installed',
];

export interface NodeState {
  readonly nodeName: string;
  readonly status: ProfileState;
  readonly message?: string;
}

export interface ProfileCondition {
  readonly type: 'Ready';
  readonly status: 'True' | 'False';
  readonly reason: 'Available' | 'Unavailable' | 'Creating' | 'Deleting' | 'Pending';
  readonly message: string;
}

export interface RolledUp {
  readonly status: ProfileState;
  readonly condition: ProfileCondition;
}

/** A profile labelled spo.x-k8s.io/disabled (recorded with disableProfileAfterRecording): on no node. */
export const DISABLED_CONDITION: ProfileCondition = {
  type: 'Ready',
  status: 'False',
  reason: 'Unavailable',
  message:
    'disabled after recording: installed on no node; remove the label spo.x-k8s.io/disabled to install it',
};

function conditionFor(status: ProfileState, nodes: readonly NodeState[]): ProfileCondition {
  const failing = nodes.filter((n) => n.status === 'Error');
  switch (status) {
    case 'Installed':
      return {
        type: 'Ready',
        status: 'True',
        reason: 'Available',
        message: `installed on ${nodes.length} node(s)`,
      };
    case 'Terminating':
      return { type: 'Ready', status: 'False', reason: 'Deleting', message: 'profile is being removed' };
    case 'Error':
      return {
        type: 'Ready',
        status: 'False',
        reason: 'Unavailable',
        message: failing.map((n) => `${n.nodeName}: ${n.message ?? 'error'}`).join('; '),
      };
    case 'Partial':
      return {
        type: 'Ready',
        status: 'False',
        reason: 'Unavailable',
        message: 'partial profile; merged when the recording ends',
      };
    case 'Disabled':
      return DISABLED_CONDITION;
    default:
      return {
        type: 'Ready',
        status: 'False',
        reason: 'Creating',
        message: `waiting for ${nodes.filter((n) => n.status !== 'Installed').length || 'all'} node(s)`,
      };
  }
}

/**
 * The profile's state over every node that reports one. `expectedNodes` are the nodes that should have it
 * (ready nodes); one that has not reported yet keeps the profile Pending, and nodes that are gone are ignored
 * so a deleted node never blocks the rest. Undefined (single-namespace mode, where nodes cannot be listed)
 * takes every node that reported as expected.
 */
export function rollUpNodeStates(
  nodes: readonly NodeState[],
  expectedNodes: readonly string[] | undefined,
): RolledUp {
  const live = new Set(expectedNodes ?? nodes.map((n) => n.nodeName));
  const relevant = nodes.filter((n) => live.has(n.nodeName));
  const reported = new Set(relevant.map((n) => n.nodeName));
  const missing = (expectedNodes ?? []).filter((n) => !reported.has(n));
  let status: ProfileState = relevant.length === 0 ? 'Pending' : 'Installed';
  for (const node of relevant) if (ORDER.indexOf(node.status) < ORDER.indexOf(status)) status = node.status;
  if (missing.length > 0 && ORDER.indexOf('Pending') < ORDER.indexOf(status)) status = 'Pending';
  return { status, condition: conditionFor(status, relevant) };
}
