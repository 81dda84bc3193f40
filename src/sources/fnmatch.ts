import { AiscError } from '../errors.js';

/**
 * A glob as huggingface_hub's allow_patterns / ignore_patterns read it (Python's fnmatch): `*`
 * and `?` match across '/', `[...]` is a class, and a pattern ending in '/' means everything
 * under that folder. `*.safetensors` therefore selects them at any depth, as on the Hub.
 */
export function toFnmatch(pattern: string, flag: string): (path: string) => boolean {
  if (pattern === '' || pattern.includes('\0')) throw new AiscError('GLOB_INVALID', `${flag} ${JSON.stringify(pattern)}: expected a glob`);
  const glob = pattern.endsWith('/') ? `${pattern}*` : pattern;
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) source += '\\[';
      else {
        let body = glob.slice(i + 1, end).replaceAll('\\', '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        source += `[${body}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  let re: RegExp;
  try {
    re = new RegExp(`^${source}$`, 's');
  } catch (error) {
    throw new AiscError('GLOB_INVALID', `${flag} ${JSON.stringify(pattern)}: ${(error as Error).message}`);
  }
  return (path) => re.test(path);
}

/** Files selected by --include (any, or all when none) and not by --exclude. */
export function toSelection(include: readonly string[] = [], exclude: readonly string[] = []): (path: string) => boolean {
  const included = include.map((p) => toFnmatch(p, '--include'));
  const excluded = exclude.map((p) => toFnmatch(p, '--exclude'));
  return (path) => (included.length === 0 || included.some((m) => m(path))) && !excluded.some((m) => m(path));
}
