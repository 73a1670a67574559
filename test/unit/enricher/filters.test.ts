import t from 'tap';
import { filterLevel, parseFilters } from '../../../src/enricher/filters.js';

const fields = {
  node: 'n1',
  namespace: 'kube-system',
  pod: 'p',
  container: 'c',
  executable: '/bin/sh',
  pid: 1,
  syscallID: 0,
  syscallName: 'read',
  timestamp: '1.1:1',
  type: 'seccomp',
};

t.test('levels', async (t) => {
  const cases: [string, string, string][] = [
    ['no filters', '[]', 'Metadata'],
    ['matchLabels hit', '[{"level":"None","matchLabels":{"namespace":"kube-system"}}]', 'None'],
    ['matchLabels miss', '[{"level":"None","matchLabels":{"namespace":"default"}}]', 'Metadata'],
    [
      'matchLabels all must hold',
      '[{"level":"None","matchLabels":{"namespace":"kube-system","pod":"q"}}]',
      'Metadata',
    ],
    ['matchLabels on a number', '[{"level":"None","matchLabels":{"syscallID":"0"}}]', 'None'],
    ['matchKeys present', '[{"level":"None","matchKeys":["syscallName"]}]', 'None'],
    ['matchKeys absent', '[{"level":"None","matchKeys":["requestUID"]}]', 'Metadata'],
    ['matchValues', '[{"level":"None","matchKeys":["namespace"],"matchValues":["kube-system"]}]', 'None'],
    ['matchValues miss', '[{"level":"None","matchValues":["default"]}]', 'Metadata'],
    [
      'lowest priority wins',
      '[{"priority":200,"level":"None","matchValues":["read"]},{"priority":100,"level":"Metadata","matchValues":["read"]}]',
      'Metadata',
    ],
    [
      'equal priorities keep JSON order',
      '[{"priority":1,"level":"None","matchValues":["read"]},{"priority":1,"level":"Metadata"}]',
      'None',
    ],
    ['empty filter matches all', '[{"level":"None"}]', 'None'],
  ];
  for (const [name, json, want] of cases) t.equal(filterLevel(parseFilters(json), fields), want, name);
});

t.test('bad filters are ERR_CONFIG', async (t) => {
  const bad = [
    'not json',
    '{}',
    '[1]',
    '[{"level":"Loud"}]',
    '[{"level":"None","priority":1.5}]',
    '[{"level":"None","matchKeys":"x"}]',
    '[{"level":"None","matchLabels":{"a":1}}]',
    '[{"level":"None","matchLabel":{}}]',
  ];
  for (const json of bad) {
    t.throws(() => parseFilters(json), { code: 'ERR_CONFIG' }, json);
  }
});
