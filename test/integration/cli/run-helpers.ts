import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { bpfLinksOf } from '../recorder/prereqs.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** seccompctl as a user runs it: its own process, the command's output on its stdout. */
export function start(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function finish(child: ChildProcess): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

export const seccompctl = (args: string[]) => finish(start(args));

export function allowed(file: string): string[] {
  const doc = parse(readFileSync(file, 'utf8')) as { spec: { syscalls?: { names: string[] }[] } };
  return doc.spec.syscalls?.flatMap((s) => s.names) ?? [];
}

/** The profile with one syscall taken out of every rule. */
export function without(file: string, name: string, out: string): void {
  const doc = parse(readFileSync(file, 'utf8')) as { spec: { syscalls: { names: string[] }[] } };
  for (const rule of doc.spec.syscalls) rule.names = rule.names.filter((n) => n !== name);
  writeFileSync(out, JSON.stringify(doc));
}

// seccompctl starts slowly on a loaded 2-core machine (tsx compiles on the fly): be generous
export async function untilAttached(pid: number): Promise<number[]> {
  for (let i = 0; i < 1200; i++) {
    const links = bpfLinksOf(pid);
    if (links.length > 0) return links;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`record (pid ${pid}) never attached a program`);
}

export function linkExists(id: number): boolean {
  return spawnSync('bpftool', ['link', 'show', 'id', String(id)], { stdio: 'ignore' }).status === 0;
}
