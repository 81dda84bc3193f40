import { AiscError } from '../errors.js';
import { getPathProblem } from '../lockfile/paths.js';
import type { IgnoreMatcher } from './ignore.js';
import { toLockfileSkipper, type LocalTarget } from './local.js';
import type { ListedFile } from './source.js';
import { listTarget, type WalkEntry } from './walk.js';

/**
 * The files of a folder or file on disk, refusing what cannot be recorded safely: links unless
 * allowed (and then only to files inside `linkRoot`), special files, unsafe or non-UTF-8 names.
 */
export function listLocalFiles(spec: string, target: LocalTarget, options: { lockfile: string; ignore: IgnoreMatcher; allowSymlinks: boolean; linkRoot?: string; hidden?: string[] }): ListedFile[] {
  const hidden = options.hidden;
  const onHidden = hidden ? (path: string) => hidden.push(path) : undefined;
  const entries = listTarget(target, { ignore: options.ignore, skip: toLockfileSkipper(options.lockfile, target.realRoot), linkRoot: options.linkRoot, onHidden }).filter((entry) => entry.type !== 'folder');
  const problems: [string, string][] = [];
  for (const entry of entries) {
    const problem = getEntryProblem(entry, options.allowSymlinks);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) {
    const [[code = 'SOURCE_UNREADABLE', first = ''] = [], ...rest] = problems;
    throw new AiscError(code as 'SOURCE_UNREADABLE', `${spec}: ${first}`, { problems: rest.map(([, message]) => `${spec}: ${message}`) });
  }
  if (entries.length === 0) throw new AiscError('SOURCE_EMPTY', `${spec}: expected at least one file to lock, got none`);
  // The walk's own entries become the listing: a million of them are not copied.
  for (const entry of entries as (WalkEntry & ListedFile)[]) {
    entry.size ??= 0;
    if (entry.type === 'symlink') entry.link = true;
  }
  return entries as ListedFile[];
}

/** [code, message] for an entry that cannot be locked as it is. */
export function getEntryProblem(entry: WalkEntry, allowSymlinks: boolean): [string, string] | undefined {
  const where = JSON.stringify(entry.path);
  const pathProblem = entry.type === 'invalid-name' ? undefined : getPathProblem(entry.path);
  if (pathProblem) return ['PATH_INVALID', `${where}: cannot be recorded in a lockfile (${pathProblem})`];
  switch (entry.type) {
    case 'file':
    case 'folder':
      return undefined;
    case 'unreadable':
      return ['SOURCE_UNREADABLE', `${entry.path || '.'}: cannot list the folder`];
    case 'invalid-name':
      return ['NAME_INVALID', `${entry.path}: the file name is not valid UTF-8, so no lockfile can record it; rename it or --ignore it`];
    case 'other':
      return ['NOT_A_FILE', `${where}: expected a regular file, folder or symlink`];
    case 'symlink':
      if (!allowSymlinks) return ['SYMLINK_REFUSED', `${where}: is a symlink; pass --allow-symlinks to follow links that stay inside the artifact`];
      if (entry.target === 'file-inside') return undefined;
      if (entry.target === 'outside') return ['SYMLINK_OUTSIDE_ROOT', `${where}: is a symlink that leaves the artifact root`];
      return ['NOT_A_FILE', `${where}: is a symlink to ${entry.target === 'folder' ? 'a folder (not supported)' : 'nothing'}`];
    default: {
      const never: never = entry.type;
      return never;
    }
  }
}
