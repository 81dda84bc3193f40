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
  | 'FORMAT_MISMATCH'
  | 'PICKLE_UNSAFE'
  | 'PICKLE_UNDECIDABLE'
  | 'CONTENT_UNSCANNABLE'
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
  | 'WRITE_REFUSED'
  | 'HTTP_FAILED'
  | 'HTTP_RESPONSE_INVALID'
  | 'HUB_AUTH_REQUIRED'
  | 'HUB_ACCESS_DENIED'
  | 'HUB_REPO_NOT_FOUND'
  | 'HUB_REVISION_NOT_FOUND'
  | 'HUB_ENTRY_NOT_FOUND'
  | 'HUB_OFFLINE'
  | 'HUB_RESPONSE_INVALID'
  | 'OCI_NOT_FOUND'
  | 'OCI_AUTH_REQUIRED'
  | 'OCI_ACCESS_DENIED'
  | 'OCI_RATE_LIMITED'
  | 'OCI_RESPONSE_INVALID'
  | 'OCI_PLATFORM_REQUIRED'
  | 'OCI_LAYER_UNSUPPORTED'
  | 'CONTENT_MISMATCH'
  | 'ARCHIVE_UNSAFE'
  | 'ARCHIVE_INVALID'
  | 'ARCHIVE_TRAILING_DATA'
  | 'CACHE_UNSAFE'
  | 'SHARD_INVALID'
  | 'REPORT_INVALID'
  | 'REPORTS_MISMATCH'
  | 'REPORTS_INCOMPLETE'
  | 'INTERNAL';

/**
 * Codes that are findings about artifact content (exit 1), not unusable input: a policy violation,
 * bytes that differ from what the origin or the lockfile pins, an archive that would escape.
 */
// Artifact content that is unsafe or malformed is a finding about the artifact, not bad usage.
const FINDING_CODES: ReadonlySet<string> = new Set(['POLICY_VIOLATION', 'CONTENT_MISMATCH', 'ARCHIVE_UNSAFE', 'ARCHIVE_INVALID', 'ARCHIVE_TRAILING_DATA', 'FORMAT_INVALID', 'FORMAT_MISMATCH', 'PICKLE_UNSAFE', 'PICKLE_UNDECIDABLE', 'CONTENT_UNSCANNABLE']);

/** Exit code for a code: a finding (1), INTERNAL a bug (3), the rest unusable input (2). */
export function exitCodeFor(code: string): 1 | 2 | 3 {
  if (FINDING_CODES.has(code)) return 1;
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
