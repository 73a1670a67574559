import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { ContainerResolver, resolverEnv } from '../../../src/node/resolve.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'cgroups');

interface Case {
  description: string;
  containerId: string;
  criInfo?: Record<string, string>;
  criCgroupFields?: string[];
  expected: { pid: number; mntns: number; method: string } | { error: string };
}

// One directory per node layout: cgroup/ is SPO_CGROUP_BASE, proc/ is SPO_PROC_BASE, case.json the CRI answer.
for (const name of readdirSync(fixtures).sort()) {
  const dir = join(fixtures, name);
  const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Case;
  t.test(`${name}: ${c.description}`, async (t) => {
    const criInfo = c.criInfo;
    const resolver = new ContainerResolver({
      log: pino({ level: 'silent' }),
      ...(criInfo !== undefined
        ? { cri: { containerStatus: async () => ({ state: 'CONTAINER_RUNNING', info: criInfo }) } }
        : {}),
      ...resolverEnv({
        SPO_CGROUP_BASE: join(dir, 'cgroup'),
        SPO_PROC_BASE: join(dir, 'proc'),
        SPO_CRI_CGROUP_FIELDS: (c.criCgroupFields ?? []).join(','),
      }),
    });
    if ('error' in c.expected) {
      await t.rejects(resolver.resolve(c.containerId), {
        code: 'ERR_CGROUP_NOT_FOUND',
        message: new RegExp(`^${c.expected.error}`),
      });
      return;
    }
    t.same(await resolver.resolve(c.containerId), { containerId: c.containerId, ...c.expected });
  });
}

t.test('a CRI that fails falls through to the cgroup scan', async (t) => {
  const dir = join(fixtures, 'v2-cgroupfs-crio');
  const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Case;
  const resolver = new ContainerResolver({
    log: pino({ level: 'silent' }),
    cri: {
      containerStatus: async () => {
        throw new Error('connection refused');
      },
    },
    ...resolverEnv({ SPO_CGROUP_BASE: join(dir, 'cgroup'), SPO_PROC_BASE: join(dir, 'proc') }),
  });
  t.match(await resolver.resolve(c.containerId), { method: 'cgroup', pid: 8001 });
  await t.rejects(resolver.resolve('nope'), { code: 'ERR_CONFIG' });
});

t.test('resolverEnv defaults', async (t) => {
  t.same(resolverEnv({}), { cgroupBase: '/sys/fs/cgroup', procBase: '/proc', criCgroupFields: [] });
});
