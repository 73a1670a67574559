import { AppError } from '../errors.js';

/** `Metadata` logs and counts a record; `None` keeps it out of the log and metrics but still records it. */
export type FilterLevel = 'Metadata' | 'None';

export interface EnricherFilter {
  readonly priority: number;
  readonly level: FilterLevel;
  /** Every key must be present on the record with a non-empty value */
  readonly matchKeys: readonly string[];
  /** Every value must equal the value of one of the record's fields */
  readonly matchValues: readonly string[];
  /** Every key must have exactly this value */
  readonly matchLabels: Readonly<Record<string, string>>;
}

/** The fields a filter sees: those of the output line. */
export type RecordFields = Readonly<Record<string, string | number | undefined>>;

const LEVELS: readonly FilterLevel[] = ['Metadata', 'None'];

function strings(v: unknown, what: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new AppError('ERR_CONFIG', `${what} must be an array of strings`);
  return v as string[];
}

/**
 * Parses `--filters` JSON: `[{priority, level, matchKeys?, matchValues?, matchLabels?}]`, sorted by
 * priority, lowest first (the order they are tried in). A filter with no match fields matches every record.
 */
export function parseFilters(json: string): EnricherFilter[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new AppError('ERR_CONFIG', `enricher filters are not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!Array.isArray(raw)) throw new AppError('ERR_CONFIG', 'enricher filters must be a JSON array');
  const filters = raw.map((f: unknown, i): EnricherFilter => {
    const where = `enricher filter ${i}`;
    if (typeof f !== 'object' || f === null || Array.isArray(f))
      throw new AppError('ERR_CONFIG', `${where} must be an object`);
    const o = f as Record<string, unknown>;
    const known = new Set(['priority', 'level', 'matchKeys', 'matchValues', 'matchLabels']);
    const unknown = Object.keys(o).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new AppError('ERR_CONFIG', `${where}: unknown field ${unknown[0]}`);
    const priority = o['priority'] ?? 0;
    if (typeof priority !== 'number' || !Number.isInteger(priority))
      throw new AppError('ERR_CONFIG', `${where}: priority must be an integer`);
    if (!LEVELS.includes(o['level'] as FilterLevel))
      throw new AppError('ERR_CONFIG', `${where}: level must be one of ${LEVELS.join(', ')}`);
    const labels = o['matchLabels'] ?? {};
    if (
      typeof labels !== 'object' ||
      labels === null ||
      Array.isArray(labels) ||
      Object.values(labels).some((v) => typeof v !== 'string')
    )
      throw new AppError('ERR_CONFIG', `${where}: matchLabels must map keys to strings`);
    return {
      priority,
      level: o['level'] as FilterLevel,
      matchKeys: strings(o['matchKeys'], `${where}: matchKeys`),
      matchValues: strings(o['matchValues'], `${where}: matchValues`),
      matchLabels: labels as Record<string, string>,
    };
  });
  // stable: equal priorities keep their order in the JSON
  return filters
    .map((f, i) => [f, i] as const)
    .sort((a, b) => a[0].priority - b[0].priority || a[1] - b[1])
    .map(([f]) => f);
}

function matches(f: EnricherFilter, fields: RecordFields): boolean {
  for (const k of f.matchKeys) {
    const v = fields[k];
    if (v === undefined || v === '') return false;
  }
  if (f.matchValues.length > 0) {
    const values = new Set(Object.values(fields).map((v) => (v === undefined ? '' : String(v))));
    for (const v of f.matchValues) if (!values.has(v)) return false;
  }
  for (const [k, want] of Object.entries(f.matchLabels)) {
    const v = fields[k];
    if (v === undefined || String(v) !== want) return false;
  }
  return true;
}

/** The level of the first filter (by priority) that matches; `Metadata` when none does. */
export function filterLevel(filters: readonly EnricherFilter[], fields: RecordFields): FilterLevel {
  for (const f of filters) if (matches(f, fields)) return f.level;
  return 'Metadata';
}
