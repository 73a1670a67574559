import t from 'tap';
import { describeError, statusOf } from '../../../src/k8s/client.js';

const status = JSON.stringify({ kind: 'Status', message: 'pods is forbidden: no', code: 403 });
t.same(
  describeError({ code: 403, message: 'HTTP-Code: 403\nMessage: x', body: JSON.stringify(status) }),
  {
    code: 403,
    reason: 'pods is forbidden: no',
  },
  'a doubly encoded Status',
);
t.same(describeError({ code: 409, body: status }), { code: 409, reason: 'pods is forbidden: no' });
t.same(describeError(new Error('fetch failed\nmore')), { code: undefined, reason: 'fetch failed' });
t.equal(statusOf({ code: 404 }), 404);
t.equal(statusOf(new Error('x')), undefined);
