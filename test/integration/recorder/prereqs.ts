import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { nativeBuilt } from '../../../src/recorder/native.js';

/**
 * Why the real-kernel recorder tests cannot run here, or false when they can. In CI (CI=true) a missing
 * prerequisite is a failure, never a skip: it throws.
 */
export function recorderSkip(): string | false {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  if (!existsSync('/sys/kernel/btf/vmlinux') && !process.env['SPO_BTF_FILE'])
    missing.push('kernel BTF (/sys/kernel/btf/vmlinux or SPO_BTF_FILE)');
  if (!nativeBuilt()) missing.push('the addon (npm run build:native)');
  if (missing.length === 0) return false;
  const reason = `needs ${missing.join(', ')}`;
  if (process.env['CI'] === 'true') throw new Error(`recorder integration test cannot run in CI: ${reason}`);
  return reason;
}

/** The BPF link ids a process holds open (from /proc/<pid>/fdinfo): what keeps its programs attached. */
export function bpfLinksOf(pid: number): number[] {
  const ids: number[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return ids;
  }
  for (const fd of fds) {
    try {
      const m = /^link_id:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m !== null) ids.push(Number(m[1]));
    } catch {
      // fd closed meanwhile
    }
  }
  return ids;
}
