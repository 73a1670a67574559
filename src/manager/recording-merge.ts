import { DISABLED_LABEL } from '../daemon/profile-sync.js';
import { CONTAINER_ID_LABEL, RECORDING_ID_LABEL, UNMERGED_FINALIZER } from '../daemon/recording-plan.js';
import { mergeSpecs } from '../profiles/merge.js';
import type { SeccompProfile } from '../profiles/types.js';

export { UNMERGED_FINALIZER };

export interface MergePlan {
  /**
   * One merged profile per container, `<recording>-<container>`, without the partial label; disabled when its
   * partials were (the recording said disableProfileAfterRecording).
   */
  readonly merged: readonly SeccompProfile[];
  /** The partial profiles folded into them, to delete once the merged ones are saved. */
  readonly partials: readonly string[];
}

/** What deleting a recording with mergeStrategy containers produces from its partial profiles. */
export function planMerge(
  recording: string,
  namespace: string,
  partials: readonly SeccompProfile[],
): MergePlan {
  const byContainer = new Map<string, SeccompProfile[]>();
  for (const p of partials) {
    const container = p.metadata.labels?.[CONTAINER_ID_LABEL];
    if (container === undefined || p.metadata.labels?.[RECORDING_ID_LABEL] !== recording) continue;
    byContainer.set(container, [...(byContainer.get(container) ?? []), p]);
  }
  const merged: SeccompProfile[] = [];
  for (const [container, group] of [...byContainer.entries()].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    const sorted = [...group].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    const disabled = group.some((p) => p.metadata.labels?.[DISABLED_LABEL] === 'true');
    merged.push({
      apiVersion: sorted[0]!.apiVersion,
      kind: 'SeccompProfile',
      metadata: {
        name: `${recording}-${container}`,
        namespace,
        labels: {
          [RECORDING_ID_LABEL]: recording,
          [CONTAINER_ID_LABEL]: container,
          ...(disabled ? { [DISABLED_LABEL]: 'true' } : {}),
        },
      },
      spec: mergeSpecs(sorted.map((p) => p.spec)),
    });
  }
  return {
    merged,
    partials: [...byContainer.values()]
      .flat()
      .map((p) => p.metadata.name)
      .sort(),
  };
}
