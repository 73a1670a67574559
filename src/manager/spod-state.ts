export type SpodState = 'Pending' | 'Creating' | 'Updating' | 'Running' | 'Error';

/** The parts of a DaemonSet's metadata and status the state is made from. */
export interface RolloutView {
  readonly generation?: number | undefined;
  readonly observedGeneration?: number | undefined;
  readonly desiredNumberScheduled?: number | undefined;
  readonly currentNumberScheduled?: number | undefined;
  readonly updatedNumberScheduled?: number | undefined;
  readonly numberReady?: number | undefined;
  readonly numberAvailable?: number | undefined;
}

export interface ReadyCondition {
  readonly type: 'Ready';
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

export interface SpodStatusDecision {
  readonly state: SpodState;
  readonly condition: ReadyCondition;
}

/**
 * The spod's state from its DaemonSet's rollout. Running once every scheduled pod runs the current template and
 * is available; until then Creating on the first rollout (no pod has ever been available, no old pod is left)
 * and Updating when pods of an older template are being replaced. `previous` keeps a rollout that started as
 * an update from being called Creating when the old pods are already gone.
 */
export function rolloutState(ds: RolloutView, previous: SpodState | undefined): SpodStatusDecision {
  const desired = ds.desiredNumberScheduled ?? 0;
  const current = ds.currentNumberScheduled ?? 0;
  const updated = ds.updatedNumberScheduled ?? 0;
  const ready = ds.numberReady ?? 0;
  const available = ds.numberAvailable ?? 0;
  const wasUp = previous === 'Running' || previous === 'Updating';
  if (ds.observedGeneration === undefined) {
    return {
      state: wasUp ? 'Updating' : 'Pending',
      condition: notReady('Pending', 'the DaemonSet controller has not processed DaemonSet spod yet'),
    };
  }
  const counts = `${updated}/${desired} pods updated, ${ready} ready, ${available} available`;
  const seen = ds.generation === undefined || ds.observedGeneration >= ds.generation;
  if (seen && updated >= desired && ready >= desired && available >= desired) {
    return {
      state: 'Running',
      condition: {
        type: 'Ready',
        status: 'True',
        reason: 'Available',
        message: desired === 0 ? 'no node is selected for DaemonSet spod' : counts,
      },
    };
  }
  const replacing = wasUp || available > 0 || current > updated;
  const state = replacing ? 'Updating' : 'Creating';
  return {
    state,
    condition: notReady(
      state,
      seen ? counts : `generation ${ds.generation} not yet rolled out by the DaemonSet controller; ${counts}`,
    ),
  };
}

/** A reconcile that failed: the state says so until the next one succeeds. */
export function errorState(message: string): SpodStatusDecision {
  return { state: 'Error', condition: notReady('ReconcileFailed', message) };
}

function notReady(reason: string, message: string): ReadyCondition {
  return { type: 'Ready', status: 'False', reason, message };
}
