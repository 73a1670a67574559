import { AppError, type ErrorCode } from '../errors.js';
import type { BpfProgram } from './native.js';
import { kernelAtLeast, parseKernelRelease } from './parse-proc.js';

/** What the recorder needs to know about the machine before it loads anything. */
export interface HostFacts {
  readonly uid: number;
  readonly kernelRelease: string;
  /** /sys/kernel/btf/vmlinux exists */
  readonly kernelBtf: boolean;
  /** SPO_BTF_FILE, when set */
  readonly btfPath?: string;
  readonly btfPathExists?: boolean;
}

// Atomic OR in BPF (the bitmap set) arrived in 5.12; BTF raw tracepoints (5.5) and batch ops (5.6) are older.
export const MIN_KERNEL = { major: 5, minor: 12 } as const;

/** The hook to load on this machine, or an error that says what is missing and how to fix it. */
export function chooseProgram(facts: HostFacts): BpfProgram {
  const version = parseKernelRelease(facts.kernelRelease);
  if (version !== undefined && !kernelAtLeast(version, MIN_KERNEL.major, MIN_KERNEL.minor)) {
    throw new AppError(
      'ERR_BPF_PREREQ',
      `kernel ${facts.kernelRelease} is too old for the eBPF recorder: it needs Linux ${MIN_KERNEL.major}.${MIN_KERNEL.minor} or newer`,
    );
  }
  if (facts.btfPath !== undefined && facts.btfPathExists === false) {
    throw new AppError(
      'ERR_BPF_PREREQ',
      `SPO_BTF_FILE=${facts.btfPath} does not exist: point it at a BTF file for kernel ${facts.kernelRelease}`,
    );
  }
  if (facts.kernelBtf) return 'btf';
  if (facts.btfPath !== undefined) return 'raw';
  throw new AppError(
    'ERR_BPF_PREREQ',
    `kernel ${facts.kernelRelease} exposes no BTF (/sys/kernel/btf/vmlinux is missing): set SPO_BTF_FILE to a BTF file ` +
      'for this kernel, or use a kernel built with CONFIG_DEBUG_INFO_BTF=y',
  );
}

export type NativeStage = 'open' | 'load' | 'attach' | 'drain';

const STAGE_CODES: Readonly<Record<NativeStage, ErrorCode>> = {
  open: 'ERR_BPF_OPEN',
  load: 'ERR_BPF_LOAD',
  attach: 'ERR_BPF_ATTACH',
  drain: 'ERR_BPF_DRAIN',
};

function hintFor(code: string | undefined, stage: NativeStage, facts: HostFacts): string | undefined {
  switch (code) {
    case 'EPERM':
    case 'EACCES':
      return facts.uid !== 0
        ? 'operation not permitted: run as root, or grant CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN on kernels before 5.8)'
        : 'operation not permitted although running as root: this process lacks CAP_BPF and CAP_PERFMON ' +
            '(a container must add them, or CAP_SYS_ADMIN on kernels before 5.8), or kernel lockdown forbids BPF';
    case 'ESRCH':
    case 'ENOENT':
      return stage === 'attach'
        ? 'the raw_syscalls:sys_enter tracepoint was not found: the kernel needs CONFIG_FTRACE_SYSCALLS'
        : 'kernel BTF not found: set SPO_BTF_FILE to a BTF file for this kernel';
    case 'ENOMEM':
      return 'out of locked memory: raise RLIMIT_MEMLOCK (ulimit -l) or grant CAP_SYS_RESOURCE';
    case 'EINVAL':
    case 'E2BIG':
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return stage === 'load'
        ? `the kernel refused the program: kernel ${facts.kernelRelease} may lack a feature it needs`
        : undefined;
    default:
      return undefined;
  }
}

/** Wraps an addon error (code, errno, syscall, libbpf's log) in an AppError that names the cause and the fix. */
export function explainNativeError(err: unknown, stage: NativeStage, facts: HostFacts): AppError {
  const native = err as { code?: string; message?: string };
  const hint = hintFor(native.code, stage, facts);
  const first = (native.message ?? String(err)).split('\n')[0];
  return new AppError(
    STAGE_CODES[stage],
    `eBPF recorder ${stage} failed: ${first}${hint !== undefined ? `: ${hint}` : ''}`,
    {
      cause: err,
    },
  );
}
