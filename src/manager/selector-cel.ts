import type { LabelSelector } from '../profiles/types.js';

/**
 * A CEL string literal for any string. Label keys and values in a ProfileRecording are user input that ends up
 * in a cluster-wide webhook configuration, so nothing in them may close the literal: quotes, backslashes and
 * every character outside printable ASCII are escaped.
 */
export function celString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    // A lone surrogate is not a code point CEL accepts; the apiserver would have stored U+FFFD for it.
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\uFFFD';
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).toUpperCase().padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** The pod's labels in a webhook matchCondition; only dereferenced behind has(LABELS). */
export const LABELS = 'object.metadata.labels';

const and = (parts: readonly string[]): string =>
  parts.length === 0 ? 'true' : parts.includes('false') ? 'false' : parts.join(' && ');

function valueTest(key: string, values: readonly string[]): string {
  const k = celString(key);
  const v =
    values.length === 1
      ? `${LABELS}[${k}] == ${celString(values[0] as string)}`
      : `${LABELS}[${k}] in [${values.map(celString).join(', ')}]`;
  return `${k} in ${LABELS} && ${v}`;
}

/**
 * The selector as a CEL condition over `object.metadata.labels`, with Kubernetes label-selector semantics (the
 * same as selectorMatches in src/webhook/label-selector.ts): every pair and expression must hold, an empty
 * selector selects every pod, a malformed expression (In/NotIn without values, an unknown operator) selects
 * none. The result assumes the labels map exists: the caller guards it with has(), since a pod without labels
 * has no such field and indexing it would be an error, not false.
 */
export function selectorToCel(selector: LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {}))
    parts.push(`(${valueTest(key, [value])})`);
  for (const expr of selector?.matchExpressions ?? []) {
    const values = expr.values ?? [];
    const k = celString(expr.key);
    switch (expr.operator) {
      case 'In':
        parts.push(values.length === 0 ? 'false' : `(${valueTest(expr.key, values)})`);
        break;
      case 'NotIn':
        parts.push(values.length === 0 ? 'false' : `!(${valueTest(expr.key, values)})`);
        break;
      case 'Exists':
        parts.push(`${k} in ${LABELS}`);
        break;
      case 'DoesNotExist':
        parts.push(`!(${k} in ${LABELS})`);
        break;
      default:
        parts.push('false');
    }
  }
  return and(parts);
}
