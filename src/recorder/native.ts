import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.js';

/**
 * Which hook the addon loads: BTF raw tracepoint, plain raw tracepoint (no kernel BTF), or, for the benchmark, the
 * empty floor and `task` (reads the task's mount namespace and returns: what reading it per syscall costs).
 */
export type BpfProgram = 'btf' | 'raw' | 'floor' | 'task';

export interface NativeOpenOptions {
  /** true: record only namespaces passed to include(); false: record all but the host and exclude()d ones. */
  readonly listedOnly: boolean;
  readonly hostMntns: number;
  readonly maxMntns: number;
  readonly program: BpfProgram;
  /** SPO_BTF_FILE: BTF for CO-RE relocation on kernels without /sys/kernel/btf/vmlinux. */
  readonly btfPath?: string;
  /**
   * A directory on a bpffs: while attached, the maps and the link are pinned there, so the program keeps
   * recording while no process holds it and the next open adopts it. Unset: nothing outlives the process.
   */
  readonly pinDir?: string;
}

/** What open found in the pin directory (all empty/false without one). */
export interface NativeOpenResult {
  /** A pinned link was taken over: the program recorded while no process held it, and still does. */
  readonly adopted: boolean;
  readonly reusedMaps: readonly string[];
  /** Pinned maps whose definition no longer matched this build: replaced, and what they held lost. */
  readonly replacedMaps: readonly string[];
  /** Pinned links that fed replaced maps or run another program than this load's: unpinned, so they stop. */
  readonly droppedLink: boolean;
}

/** One drained map entry: bitmaps are little-endian u64 words, bit n = syscall number n. */
export interface NativeEntry {
  readonly mntns: number;
  readonly nsId: number;
  readonly flags: number;
  readonly native: Uint8Array;
  readonly compat: Uint8Array;
}

export interface NativeInfo {
  readonly open: boolean;
  readonly attached: boolean;
  readonly progId?: number;
  readonly program?: string;
  /** spo_rec_exit, loaded beside the BTF program: it drops an exiting task from that program's per-CPU cache. */
  readonly exitProgId?: number;
}

/** The addon's Recorder class (native/src/recorder.cc). Errors carry code, errno, syscall. */
export interface NativeRecorder {
  open(opts: NativeOpenOptions): NativeOpenResult;
  /** With a pin directory, also pins the maps and the link. */
  attach(): void;
  /** With a pin directory, also unpins the link and the maps and removes stale pins. */
  detach(): void;
  /** Lookup-and-delete: every entry, or just `mntns`'s. */
  drain(mntns?: number): NativeEntry[];
  include(mntns: number): void;
  exclude(mntns: number): void;
  forget(mntns: number): void;
  stats(): { mapFull: number; resets: number };
  info(): NativeInfo;
  close(): void;
}

export interface SeccompArgSpec {
  readonly index: number;
  readonly op: number;
  readonly value: bigint;
  readonly valueTwo: bigint;
}

export interface SeccompRuleSpec {
  readonly name: string;
  readonly action: number;
  readonly args: readonly SeccompArgSpec[];
}

/** What compileSeccomp takes: numeric libseccomp values, mapped from profile names in filter-spec.ts. */
export interface SeccompFilterSpec {
  readonly defaultAction: number;
  readonly badArchAction: number;
  /** libseccomp arch names (x86_64, aarch64, x86, ...). */
  readonly architectures: readonly string[];
  readonly rules: readonly SeccompRuleSpec[];
}

export interface NativeAddon {
  readonly Recorder: new () => NativeRecorder;
  /** A classic BPF seccomp program (struct sock_filter[]) and the syscall names libseccomp did not know. */
  compileSeccomp(spec: SeccompFilterSpec): { filter: Buffer; unknown: string[] };
}

const ADDON = join('native', 'build', 'Release', 'spo_recorder.node');
const HELPER = join('native', 'build', 'Release', 'spo-exec');

// src/recorder/ under tsx, dist/src/recorder/ when built: walk up to the package root.
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'native', 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

export interface NativePaths {
  readonly addon: string;
  readonly helper: string;
}

/** Where the built addon and spo-exec live; SPO_NATIVE_DIR overrides (a directory holding both). */
export function nativePaths(env: NodeJS.ProcessEnv = process.env): NativePaths {
  const dir = env['SPO_NATIVE_DIR'];
  if (dir !== undefined && dir !== '') {
    return { addon: join(dir, 'spo_recorder.node'), helper: join(dir, 'spo-exec') };
  }
  const root = packageRoot() ?? process.cwd();
  return { addon: join(root, ADDON), helper: join(root, HELPER) };
}

/** True when both the addon and spo-exec have been built. */
export function nativeBuilt(env: NodeJS.ProcessEnv = process.env): boolean {
  const { addon, helper } = nativePaths(env);
  return existsSync(addon) && existsSync(helper);
}

let loaded: NativeAddon | undefined;

/** Loads the addon once per process; a missing build is an error that says how to build it. */
export function loadNative(env: NodeJS.ProcessEnv = process.env): NativeAddon {
  if (loaded !== undefined) return loaded;
  const { addon } = nativePaths(env);
  if (!existsSync(addon)) {
    throw new AppError(
      'ERR_BPF_PREREQ',
      `recorder addon not built (${addon} missing): run npm run build:native`,
    );
  }
  const require = createRequire(import.meta.url);
  loaded = require(addon) as NativeAddon;
  return loaded;
}
