import { BINDING_WEBHOOK_NAME, RECORDING_WEBHOOK_NAME } from '../webhook/configuration.js';
import { ENABLE_BINDING_LABEL } from './opt-in.js';

export interface SelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[] | undefined;
}

export interface Selector {
  readonly matchLabels?: Readonly<Record<string, string>> | undefined;
  readonly matchExpressions?: readonly SelectorRequirement[] | undefined;
}

/** The parts of a webhook entry spod's webhookOptions may change. */
export interface WebhookView {
  readonly name: string;
  readonly failurePolicy?: string | undefined;
  readonly namespaceSelector?: Selector | undefined;
}

export interface WebhookOption {
  readonly name: string;
  readonly failurePolicy?: string | undefined;
  readonly namespaceSelector?: Selector | undefined;
}

export interface JsonPatchOp {
  readonly op: 'add';
  readonly path: string;
  readonly value: unknown;
}

export interface WebhookPlan {
  readonly ops: readonly JsonPatchOp[];
  /** One line per changed field, for the Event and the log. */
  readonly changes: readonly string[];
}

const NAME_LABEL = 'kubernetes.io/metadata.name';

/** Key order and empty members do not make two selectors different. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = canonical((value as Record<string, unknown>)[key]);
      const empty =
        v === undefined ||
        v === null ||
        (Array.isArray(v) && v.length === 0) ||
        (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
      if (!empty) out[key] = v;
    }
    return out;
  }
  return value;
}

const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

/**
 * A user's selector replaces the opt-in one whole (as in SPO), except that the namespaces the operator must
 * never admit for (system namespaces, its own) stay excluded: a Fail webhook there could stop the cluster
 * from healing.
 */
export function withExclusions(selector: Selector, excluded: readonly string[]): Selector {
  const expressions = selector.matchExpressions ?? [];
  const already = expressions.some(
    (e) => e.key === NAME_LABEL && e.operator === 'NotIn' && excluded.every((n) => e.values?.includes(n)),
  );
  return {
    ...(selector.matchLabels !== undefined ? { matchLabels: { ...selector.matchLabels } } : {}),
    matchExpressions: already
      ? expressions.map((e) => ({ ...e }))
      : [
          ...expressions.map((e) => ({ ...e })),
          { key: NAME_LABEL, operator: 'NotIn', values: [...excluded] },
        ],
  };
}

/**
 * The JSON patch that makes each webhook's failurePolicy and namespaceSelector what spod asks for, or what the
 * operator's own configuration says when spod names nothing for it (so removing an option restores the
 * default). Nothing else is touched: the caBundle belongs to the certificate code, the rest to the manifests.
 */
export function planWebhookOptions(
  current: readonly WebhookView[],
  defaults: readonly WebhookView[],
  options: readonly WebhookOption[],
  excluded: readonly string[],
): WebhookPlan {
  const ops: JsonPatchOp[] = [];
  const changes: string[] = [];
  const fallbacks = leaveToBindingOnlyByDefault(defaults, options);
  current.forEach((hook, i) => {
    const fallback = fallbacks.find((d) => d.name === hook.name);
    if (fallback === undefined) return;
    const option = options.find((o) => o.name === hook.name);
    const failurePolicy = option?.failurePolicy ?? fallback.failurePolicy;
    const namespaceSelector =
      option?.namespaceSelector !== undefined
        ? withExclusions(option.namespaceSelector, excluded)
        : fallback.namespaceSelector;
    if (failurePolicy !== undefined && failurePolicy !== hook.failurePolicy) {
      ops.push({ op: 'add', path: `/webhooks/${i}/failurePolicy`, value: failurePolicy });
      changes.push(`${hook.name} failurePolicy ${hook.failurePolicy ?? '(unset)'} -> ${failurePolicy}`);
    }
    if (namespaceSelector !== undefined && !same(namespaceSelector, hook.namespaceSelector)) {
      ops.push({ op: 'add', path: `/webhooks/${i}/namespaceSelector`, value: namespaceSelector });
      changes.push(`${hook.name} namespaceSelector ${JSON.stringify(canonical(namespaceSelector))}`);
    }
  });
  return { ops, changes };
}

/**
 * By default the recording webhook leaves namespaces with the binding opt-in label to the binding webhook,
 * which records there too. A custom selector on the binding webhook may no longer call it there, so then the
 * recording webhook's default drops that requirement: a pod may be seen by both (the second pass changes
 * nothing), but no pod a recording selects goes unrecorded.
 */
export function leaveToBindingOnlyByDefault(
  defaults: readonly WebhookView[],
  options: readonly WebhookOption[],
): readonly WebhookView[] {
  const custom = options.some((o) => o.name === BINDING_WEBHOOK_NAME && o.namespaceSelector !== undefined);
  if (!custom) return defaults;
  return defaults.map((d) => {
    const expressions = d.namespaceSelector?.matchExpressions;
    if (d.name !== RECORDING_WEBHOOK_NAME || expressions === undefined) return d;
    return {
      ...d,
      namespaceSelector: {
        ...d.namespaceSelector,
        matchExpressions: expressions.filter(
          (e) => !(e.key === ENABLE_BINDING_LABEL && e.operator === 'DoesNotExist'),
        ),
      },
    };
  });
}
