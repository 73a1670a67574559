import type { LabelSelector } from '../profiles/types.js';
import { selectorMatches } from '../webhook/label-selector.js';
import { celString, LABELS, selectorToCel } from './selector-cel.js';

/** The one matchCondition the manager owns on the recording webhook. */
export const RECORDING_CONDITION_NAME = 'selected-by-a-profilerecording';

/**
 * Past this many characters the condition is dropped and the webhook called for every pod of an opted-in
 * namespace, as without conditions: still correct, only slower. Far below what the apiserver's CEL parser takes
 * (100,000 code points), and a few hundred typical recordings fit.
 */
export const MAX_CONDITION_CHARS = 20_000;

export interface MatchCondition {
  readonly name: string;
  readonly expression: string;
}

export interface RecordingView {
  readonly namespace: string;
  readonly name: string;
  readonly podSelector: LabelSelector | undefined;
  /** Terminating recordings select nothing any more: the webhook's cache skips them too. */
  readonly deleting: boolean;
}

export type RecordingConditions =
  | { readonly conditions: readonly MatchCondition[] }
  /** No conditions: the apiserver calls the webhook for every pod its namespaceSelector selects. */
  | { readonly always: string };

const inNamespaces = (names: readonly string[]): string =>
  names.length === 1
    ? `request.namespace == ${celString(names[0] as string)}`
    : `request.namespace in [${names.map(celString).join(', ')}]`;

const or = (parts: readonly string[]): string => (parts.length === 0 ? 'false' : parts.join(' || '));

/**
 * The recording webhook's matchConditions: true exactly when some live ProfileRecording in the pod's namespace
 * selects the pod, i.e. when decideRecording would patch it. The apiserver then skips the call for every other
 * pod of an opted-in namespace (a pod no recording selects costs no webhook round trip). Labels are read from
 * the object under admission, which for this first, never-reinvoked webhook is the pod as created.
 */
export function recordingConditions(recordings: readonly RecordingView[]): RecordingConditions {
  const byNamespace = new Map<string, string[]>();
  const unlabelled = new Set<string>();
  const live = recordings
    .filter((r) => !r.deleting)
    .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
  for (const r of live) {
    const selectors = byNamespace.get(r.namespace) ?? [];
    const cel = selectorToCel(r.podSelector);
    if (!selectors.includes(cel)) selectors.push(cel);
    byNamespace.set(r.namespace, selectors);
    // A pod without labels has no metadata.labels at all; which namespaces select it is known here.
    if (selectorMatches(r.podSelector, {})) unlabelled.add(r.namespace);
  }
  const everyPod: string[] = [];
  const clauses: string[] = [];
  for (const [namespace, selectors] of byNamespace) {
    if (selectors.includes('true')) everyPod.push(namespace);
    else {
      const some = selectors.filter((s) => s !== 'false');
      if (some.length === 0) continue;
      const body = some.length === 1 ? (some[0] as string) : some.map((s) => `(${s})`).join(' || ');
      clauses.push(`(${inNamespaces([namespace])} && (${body}))`);
    }
  }
  const labelled = or([...(everyPod.length > 0 ? [inNamespaces(everyPod)] : []), ...clauses]);
  const bare = unlabelled.size > 0 ? inNamespaces([...unlabelled]) : 'false';
  // Indexing a missing map is an error (and an error skips an Ignore webhook silently), hence has() first.
  const expression =
    clauses.length === 0
      ? labelled
      : bare === 'false'
        ? `has(${LABELS}) && (${labelled})`
        : `has(${LABELS}) ? (${labelled}) : (${bare})`;
  if (expression.length > MAX_CONDITION_CHARS) {
    return {
      always: `${live.length} ProfileRecordings need a ${expression.length}-character condition (limit ${MAX_CONDITION_CHARS}); the recording webhook is called for every pod of an opted-in namespace`,
    };
  }
  return { conditions: [{ name: RECORDING_CONDITION_NAME, expression }] };
}

export interface HookConditionsView {
  readonly name: string;
  readonly matchConditions?: readonly MatchCondition[] | undefined;
}

export type ConditionsOp =
  | { readonly op: 'add'; readonly path: string; readonly value: readonly MatchCondition[] }
  | { readonly op: 'remove'; readonly path: string };

/**
 * The JSON patch ops that put `want` on the named webhook, or none when it is already there (or the webhook
 * is missing). Only /webhooks/N/matchConditions is written: the caBundle, failurePolicy and namespaceSelector
 * belong to the certificate code and spod's webhookOptions, which patch the same object.
 */
export function planConditions(
  current: readonly HookConditionsView[],
  webhook: string,
  want: RecordingConditions,
): ConditionsOp[] {
  const i = current.findIndex((w) => w.name === webhook);
  if (i < 0) return [];
  const have = (current[i] as HookConditionsView).matchConditions ?? [];
  const path = `/webhooks/${i}/matchConditions`;
  if ('always' in want) return have.length > 0 ? [{ op: 'remove', path }] : [];
  const same =
    have.length === want.conditions.length &&
    have.every(
      (c, j) => c.name === want.conditions[j]?.name && c.expression === want.conditions[j]?.expression,
    );
  return same ? [] : [{ op: 'add', path, value: want.conditions.map((c) => ({ ...c })) }];
}
