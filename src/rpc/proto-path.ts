import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A .proto next to the calling module; tsc does not copy protos into dist/, so a built module falls back to
 * the same file under src/.
 */
export function protoPath(moduleUrl: string, file: string): string {
  const here = join(dirname(fileURLToPath(moduleUrl)), file);
  if (existsSync(here)) return here;
  return here.replace(`${join('dist', 'src')}`, 'src');
}
