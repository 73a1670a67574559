import fastJsonPatch from 'fast-json-patch';
import type { Decision } from './decision.js';
import { labelsOf, type Pod } from './pod.js';
import { RECORDING_ID_LABEL } from './recording.js';

/**
 * The binding webhook's answer in a namespace that records too: what the recording webhook and then the binding
 * webhook used to return in two calls, as one. The recording webhook's namespaceSelector leaves such namespaces
 * to the binding webhook (configuration.ts), which saves the apiserver a round trip per pod.
 *
 * `recorded` is the recording decision for `pod`; `bind` decides binding for the pod as recording patched it, so
 * the binding reads the logs annotation and skips that container exactly as it did as the second webhook. Its ops
 * come after the recording's in one patch, the order in which the apiserver applied the two before.
 */
export function recordedThenBound(pod: Pod, recorded: Decision, bind: (pod: Pod) => Decision): Decision {
  if (recorded.patch.length === 0 && recorded.warnings.length === 0 && recorded.reasons.length === 0) {
    return bind(pod);
  }
  const bound = bind(recorded.patch.length === 0 ? pod : patched(pod, recorded));
  // A pod already labelled was recorded by an earlier call (the recording webhook itself where a custom
  // namespaceSelector still calls both, or this webhook before a reinvocation): its warnings were given then.
  const again = labelsOf(pod)?.[RECORDING_ID_LABEL] !== undefined;
  return {
    patch: [...recorded.patch, ...bound.patch],
    warnings: again ? bound.warnings : [...recorded.warnings, ...bound.warnings],
    reasons: [...recorded.reasons, ...bound.reasons],
  };
}

/** A copy: the pod under review belongs to the caller, and only recorded pods, a few, pay for it. */
function patched(pod: Pod, recorded: Decision): Pod {
  const copy = structuredClone(pod);
  fastJsonPatch.applyPatch(copy, recorded.patch, false, true);
  return copy;
}
