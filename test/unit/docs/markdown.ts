// Reading the user documentation in tests: a page, its sections by heading, the rows of its tables.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const docsDir = join(import.meta.dirname, '../../../docs');

export function readDoc(name: string): string {
  return readFileSync(join(docsDir, name), 'utf8');
}

/** The text under `heading` (a whole heading line, e.g. `## SeccompProfile`) up to the next heading of its level or above. */
export function section(doc: string, heading: string): string | undefined {
  const lines = doc.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) return undefined;
  const level = /^#+/.exec(heading)?.[0].length ?? 1;
  let end = start + 1;
  while (end < lines.length && !new RegExp(`^#{1,${level}} `).test(lines[end] ?? '')) end++;
  return lines.slice(start + 1, end).join('\n');
}

/** The first cells of the body rows of every table whose header's first cell is `first` (backticks kept). */
export function firstCells(text: string, first: string): string[] {
  const out: string[] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      inTable = false;
      continue;
    }
    const cell = line.split('|')[1]?.trim() ?? '';
    if (!inTable) {
      inTable = cell === first;
      continue;
    }
    if (/^-+$/.test(cell)) continue;
    out.push(cell);
  }
  return out;
}
