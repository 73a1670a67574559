/** What a CRI ContainerStatus(verbose) info map says about where a container runs. */
export interface CriContainerFacts {
  readonly pid?: number;
  readonly cgroupsPath?: string;
}

// Field paths tried in every JSON document of the info map, before the extra ones from SPO_CRI_CGROUP_FIELDS.
const CGROUP_FIELDS = ['runtimeSpec.linux.cgroupsPath', 'linux.cgroupsPath', 'cgroupsPath', 'cgroupPath'];
const PID_FIELDS = ['pid', 'runtimeSpec.process.pid'];

/** SPO_CRI_CGROUP_FIELDS: comma-separated dotted JSON field names. */
export function parseCgroupFields(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function at(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * containerd puts one JSON document under `info`; CRI-O has used both that and one key per field. Every value
 * that parses as JSON is searched, and a plain string under a cgroup field name counts as the path.
 */
export function criContainerFacts(
  info: Readonly<Record<string, string>>,
  extraFields: readonly string[] = [],
): CriContainerFacts {
  const docs: unknown[] = [];
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(info)) {
    try {
      docs.push(JSON.parse(value));
    } catch {}
    flat[key] = value;
  }
  docs.push(flat);
  let pid: number | undefined;
  let cgroupsPath: string | undefined;
  const fields = [...CGROUP_FIELDS, ...extraFields];
  for (const doc of docs) {
    for (const f of PID_FIELDS) {
      const v = at(doc, f);
      const n = typeof v === 'string' ? Number(v) : v;
      if (pid === undefined && typeof n === 'number' && Number.isSafeInteger(n) && n > 0) pid = n;
    }
    for (const f of fields) {
      const v = at(doc, f) ?? at(at(doc, 'runtimeSpec'), f);
      if (cgroupsPath === undefined && typeof v === 'string' && v !== '') cgroupsPath = v;
    }
  }
  return {
    ...(pid !== undefined ? { pid } : {}),
    ...(cgroupsPath !== undefined ? { cgroupsPath } : {}),
  };
}
