/** One finding about an input document, located by a field path such as `spec.syscalls[3].action`. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** Appends a property or index to a dotted field path. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

export function formatIssue(issue: Issue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}
