/** Stable error codes: callers branch on `code`, never on the message. */
export type ErrorCode =
  | 'ERR_USAGE'
  | 'ERR_INVALID_PROFILE'
  | 'ERR_INPUT_READ'
  | 'ERR_INPUT_PARSE'
  | 'ERR_OUTPUT_WRITE'
  | 'ERR_PROFILE_WRITE'
  | 'ERR_BASE_PROFILE'
  | 'ERR_CONFIG'
  | 'ERR_BPF_PREREQ'
  | 'ERR_BPF_OPEN'
  | 'ERR_BPF_LOAD'
  | 'ERR_BPF_ATTACH'
  | 'ERR_BPF_DRAIN'
  | 'ERR_RECORDER_CLOSED'
  | 'ERR_RECORDER_SELF_TEST'
  | 'ERR_EXEC'
  | 'ERR_SECCOMP'
  | 'ERR_ADMISSION_BAD_REVIEW'
  | 'ERR_CACHE_NOT_SYNCED'
  | 'ERR_TLS_CERT'
  | 'ERR_CRI_ENDPOINT'
  | 'ERR_CRI'
  | 'ERR_CGROUP_NOT_FOUND'
  | 'ERR_NOT_RECORDED'
  | 'ERR_RPC';

export class AppError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
  }
}

/** A command-line mistake: the CLI prints the message and the command's usage, and exits 2. */
export class UsageError extends AppError {
  constructor(message: string) {
    super('ERR_USAGE', message);
    this.name = 'UsageError';
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
