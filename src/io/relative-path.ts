import { AiscError } from '../errors.js';

export const MAX_PATH_LENGTH = 4096;

/**
 * Why `path` is not a safe artifact-relative path, or undefined when it is one: relative,
 * `/`-separated, no empty, `.` or `..` segment, no NUL, backslash or other control character,
 * no drive letter. Checked before any file named by a lockfile is opened.
 */
export function getPathProblem(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  if (path.includes('\0')) return 'contains a NUL character';
  if (path.includes('\\')) return 'contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0001-\u001f\u007f]/.test(path)) return 'contains a control character';
  if (path.startsWith('/')) return 'is absolute';
  if (/^[A-Za-z]:/.test(path)) return 'starts with a drive letter';
  for (const segment of path.split('/')) {
    if (segment === '') return 'has an empty segment';
    if (segment === '.' || segment === '..') return `has a '${segment}' segment`;
  }
  return undefined;
}

export function isSafeRelativePath(path: string): boolean {
  return getPathProblem(path) === undefined;
}

export function assertSafeRelativePath(path: string, where: string): void {
  const problem = getPathProblem(path);
  if (problem) {
    throw new AiscError('PATH_INVALID', `${where}: expected a relative path inside the artifact, got ${JSON.stringify(path)} (${problem})`);
  }
}
