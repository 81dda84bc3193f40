import picomatch from 'picomatch';
import { AiscError } from '../errors.js';

/** Ignored at an artifact's root by default, as OpenSSF Model Signing does. */
export const DEFAULT_IGNORED = ['.git', '.gitattributes', '.github', '.gitignore'] as const;

export type IgnoreMatcher = (relativePath: string) => boolean;

/**
 * Builds the matcher for default ignores plus user globs. A glob without '/' matches a base name
 * at any depth (`*.tmp`); with '/' it matches the whole relative path (`logs/**`). A matched folder
 * is skipped with everything in it.
 */
export function toIgnoreMatcher(globs: readonly string[]): IgnoreMatcher {
  const problems = globs.map(getGlobProblem).filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    const [first = '', ...rest] = problems;
    throw new AiscError('GLOB_INVALID', first, { problems: rest });
  }
  const matchers = globs.map((glob) => {
    const pattern = glob.endsWith('/') ? glob.slice(0, -1) : glob;
    return picomatch(pattern, { dot: true, basename: !pattern.includes('/') });
  });
  const defaults = new Set<string>(DEFAULT_IGNORED);
  return (path) => defaults.has(path) || matchers.some((match) => match(path));
}

export function getGlobProblem(glob: string): string | undefined {
  const where = `--ignore ${JSON.stringify(glob)}`;
  if (glob.length === 0 || glob === '/') return `${where}: expected a glob, got an empty one`;
  if (glob.includes('\0') || glob.includes('\\')) return `${where}: expected '/'-separated text without NUL or backslash`;
  if (glob.startsWith('/')) return `${where}: expected a path relative to the artifact root, got an absolute one`;
  if (glob.split('/').some((s) => s === '..')) return `${where}: expected no '..' segment`;
  try {
    picomatch.makeRe(glob);
  } catch (error) {
    return `${where}: ${(error as Error).message}`;
  }
  return undefined;
}

/** What model_signing leaves out at an artifact's root (.git, .gitattributes, …), left out of origins' listings too. */
export function isDefaultIgnored(path: string): boolean {
  const top = path.split('/')[0] ?? '';
  return (DEFAULT_IGNORED as readonly string[]).includes(top);
}
