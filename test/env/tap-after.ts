// tap's `after` script: tears the local cluster down if this test run started
// it (test/helpers/cluster.ts leaves a marker); a cluster started by hand stays.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { paths, repoRoot } from './layout.js';

if (existsSync(paths.startedByTests) && process.env.SPO_DEV_KEEP !== '1') {
  const res = spawnSync(join(repoRoot, 'scripts/dev'), ['down'], { stdio: ['ignore', 2, 2] });
  process.exitCode = res.status ?? 1;
}
