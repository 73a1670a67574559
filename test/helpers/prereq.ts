import type { Test } from 'tap';

/**
 * Test options for a prerequisite: outside CI a missing one skips with its reason; in CI (`CI=true`) it fails
 * the run instead, because a silently skipped test hides a broken environment.
 */
export function requires(t: Test, missing: string | undefined): { skip: string | false } {
  if (missing === undefined) return { skip: false };
  if (process.env['CI'] === 'true') {
    t.fail(`prerequisite missing in CI: ${missing}`);
    return { skip: false };
  }
  return { skip: missing };
}

export function rootMissing(): string | undefined {
  return process.getuid?.() === 0 ? undefined : 'needs root';
}
