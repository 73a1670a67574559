import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixtureDir = fileURLToPath(new URL('../../fixtures/webhook/', import.meta.url));

/** Every golden case in a fixture directory, parsed afresh per call so no test sees another's mutations. */
export function loadCases<T>(dir: string): Array<{ name: string; value: T }> {
  const full = join(fixtureDir, dir);
  return readdirSync(full)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({
      name: f.replace(/\.json$/, ''),
      value: JSON.parse(readFileSync(join(full, f), 'utf8')) as T,
    }));
}
