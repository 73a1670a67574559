import type { LabelSelector } from '../profiles/types.js';

export type Labels = Readonly<Record<string, string>> | undefined;

/**
 * Kubernetes label-selector semantics: every `matchLabels` pair and every expression must hold; an empty
 * selector selects everything. A malformed expression (In/NotIn without values, unknown operator) selects
 * nothing, as the apiserver would refuse it.
 */
export function selectorMatches(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (selector === undefined || selector === null) return true;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (have[key] !== value) return false;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const present = Object.hasOwn(have, expr.key);
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
        if (values.length === 0 || !present || !values.includes(have[expr.key] as string)) return false;
        break;
      case 'NotIn':
        if (values.length === 0 || (present && values.includes(have[expr.key] as string))) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
