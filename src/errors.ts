/** Codes for unusable input or usage (exit 2) and internal failures (exit 3). */
export type AiscErrorCode =
  | 'USAGE'
  | 'ALREADY_EXISTS'
  | 'LOCKFILE_NOT_FOUND'
  | 'LOCKFILE_UNREADABLE'
  | 'LOCKFILE_EMPTY'
  | 'LOCKFILE_TOO_LARGE'
  | 'JSON_INVALID'
  | 'JSON_DUPLICATE_KEY'
  | 'LOCKFILE_VERSION_UNSUPPORTED'
  | 'LOCKFILE_INVALID'
  | 'LOCK_TIMEOUT'
  | 'LOCK_LOST'
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'FILE_TOO_LARGE'
  | 'TEXT_INVALID'
  | 'PATH_INVALID'
  | 'NAME_INVALID'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_UNREADABLE'
  | 'SOURCE_EMPTY'
  | 'SYMLINK_REFUSED'
  | 'SYMLINK_OUTSIDE_ROOT'
  | 'NOT_A_FILE'
  | 'FILE_CHANGED'
  | 'KIND_REQUIRED'
  | 'UNKNOWN_DEPENDENCY'
  | 'UNKNOWN_ARTIFACT'
  | 'GLOB_INVALID'
  | 'FORMAT_INVALID'
  | 'SIGNING_FAILED'
  | 'POLICY_NOT_FOUND'
  | 'POLICY_INVALID'
  | 'BASE_INVALID'
  | 'BASE_NOT_FOUND'
  | 'APPROVAL_INVALID'
  | 'APPROVAL_REJECTED'
  | 'POLICY_VIOLATION'
  | 'NPM_LOCK_INVALID'
  | 'NPM_LOCK_UNSUPPORTED'
  | 'REGISTRY_NOT_FOUND'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_RESPONSE_INVALID'
  | 'WRITE_FAILED'
  | 'INTERNAL';

/** Exit code for a code: a policy violation is a finding (1), INTERNAL a bug (3), the rest unusable input (2). */
export function exitCodeFor(code: string): 1 | 2 | 3 {
  if (code === 'POLICY_VIOLATION') return 1;
  return code === 'INTERNAL' ? 3 : 2;
}

export interface AiscErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Further problems of the same kind, each a one-line message (validation reports every one). */
  problems?: string[];
}

/** The one error type aisc throws; `code` is stable, `message` is for people. */
export class AiscError<C extends string = AiscErrorCode> extends Error {
  readonly code: C;
  readonly details?: Record<string, unknown>;
  readonly problems: string[];

  constructor(code: C, message: string, options: AiscErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AiscError';
    this.code = code;
    this.details = options.details;
    this.problems = options.problems ?? [];
  }
}

export function isAiscError(value: unknown): value is AiscError<string> {
  return value instanceof AiscError;
}

/** Node's system errors carry a string `code` (ENOENT, EACCES, ...). */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
