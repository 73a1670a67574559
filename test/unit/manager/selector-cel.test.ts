import t from 'tap';
import { celString, selectorToCel } from '../../../src/manager/selector-cel.js';
import type { LabelSelector } from '../../../src/profiles/types.js';

const L = 'object.metadata.labels';

t.test('celString: quotes, backslashes and non-printable characters cannot end the literal', async (t) => {
  const table: Array<[string, string]> = [
    ['app', '"app"'],
    ['app.kubernetes.io/name', '"app.kubernetes.io/name"'],
    ['', '""'],
    ['say "hi"', '"say \\"hi\\""'],
    ['a\\b', '"a\\\\b"'],
    ['\\"', '"\\\\\\""'],
    ["it's", `"it's"`],
    ['line\nbreak\ttab', '"line\\u000Abreak\\u0009tab"'],
    ['\u007f', '"\\u007F"'],
    ['é', '"\\u00E9"'],
    ['😀', '"\\U0001F600"'],
    ['\ud800x', '"\\uFFFDx"'],
    ['"] || true || ["', '"\\"] || true || [\\""'],
  ];
  for (const [input, want] of table) t.equal(celString(input), want, JSON.stringify(input));
});

t.test('selectorToCel: one requirement per operator', async (t) => {
  const table: Array<[string, LabelSelector | undefined, string]> = [
    ['undefined selector: every pod', undefined, 'true'],
    ['empty selector: every pod', {}, 'true'],
    ['empty members: every pod', { matchLabels: {}, matchExpressions: [] }, 'true'],
    ['matchLabels', { matchLabels: { app: 'web' } }, `("app" in ${L} && ${L}["app"] == "web")`],
    [
      'two matchLabels: both',
      { matchLabels: { app: 'web', tier: 'fe' } },
      `("app" in ${L} && ${L}["app"] == "web") && ("tier" in ${L} && ${L}["tier"] == "fe")`,
    ],
    [
      'In, one value',
      { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] },
      `("env" in ${L} && ${L}["env"] == "prod")`,
    ],
    [
      'In, several values',
      { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'stage'] }] },
      `("env" in ${L} && ${L}["env"] in ["prod", "stage"])`,
    ],
    [
      'NotIn: absent key matches too',
      { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] },
      `!("env" in ${L} && ${L}["env"] == "dev")`,
    ],
    ['Exists', { matchExpressions: [{ key: 'debug', operator: 'Exists' }] }, `"debug" in ${L}`],
    [
      'DoesNotExist',
      { matchExpressions: [{ key: 'debug', operator: 'DoesNotExist' }] },
      `!("debug" in ${L})`,
    ],
    [
      'In without values selects nothing',
      { matchExpressions: [{ key: 'env', operator: 'In', values: [] }] },
      'false',
    ],
    [
      'NotIn without values selects nothing',
      { matchExpressions: [{ key: 'env', operator: 'NotIn' }] },
      'false',
    ],
    [
      'unknown operator selects nothing, whatever else holds',
      {
        matchLabels: { app: 'web' },
        matchExpressions: [{ key: 'x', operator: 'Gt' as 'In', values: ['1'] }],
      },
      'false',
    ],
    [
      'labels with quotes in key and value are escaped',
      { matchLabels: { 'a"b': 'c"] || true || ["' } },
      `("a\\"b" in ${L} && ${L}["a\\"b"] == "c\\"] || true || [\\"")`,
    ],
    [
      'prefixed key, mixed',
      {
        matchLabels: { 'app.kubernetes.io/name': 'nginx' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod'] },
          { key: 'canary', operator: 'DoesNotExist' },
        ],
      },
      `("app.kubernetes.io/name" in ${L} && ${L}["app.kubernetes.io/name"] == "nginx") && ("env" in ${L} && ${L}["env"] == "prod") && !("canary" in ${L})`,
    ],
  ];
  for (const [name, selector, want] of table) t.equal(selectorToCel(selector), want, name);
});
