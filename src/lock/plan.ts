import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { AiscError } from '../errors.js';
import { getInspection, inferKind } from '../formats/index.js';
import type { HashJob } from '../hashing/types.js';
import { getNameProblem, getPathProblem } from '../lockfile/index.js';
import type { FileArtifactKind } from '../lockfile/types.js';
import { listTarget, resolveLocalTarget, toLockfileSkipper, type IgnoreMatcher, type LocalTarget, type WalkEntry } from '../sources/index.js';

/** What `aisc lock` asks of one source before anything is hashed. */
export interface PlanOptions {
  lockfile: string;
  kind?: FileArtifactKind;
  name?: string;
  allowSymlinks?: boolean;
}

/** A source listed and checked, with the hash jobs for its files. */
export interface Planned {
  name: string;
  kind: FileArtifactKind;
  path: string;
  target: LocalTarget;
  entries: WalkEntry[];
  jobs: HashJob[];
}

/**
 * Resolves a source, names it, lists it (refusing what cannot be recorded safely: links unless
 * allowed, special files, unsafe or non-UTF-8 names), infers its kind and plans its hash jobs.
 */
export function planSource(path: string, options: PlanOptions, ignore: IgnoreMatcher): Planned {
  const target = resolveLocalTarget(path);
  const name = options.name ?? basename(resolve(path));
  const problem = getNameProblem(name);
  if (problem) {
    if (options.name !== undefined) throw new AiscError('NAME_INVALID', `--name: expected an artifact name, got ${JSON.stringify(name)}, which ${problem}`);
    throw new AiscError('NAME_INVALID', `${path}: its base name ${JSON.stringify(name)} is not an artifact name (it ${problem}); pass --name`);
  }
  const entries = listTarget(target, { ignore, skip: toLockfileSkipper(options.lockfile, target.realRoot) }).filter((entry) => entry.type !== 'folder');
  const problems: [string, string][] = [];
  for (const entry of entries) {
    const problem = getEntryProblem(entry, options.allowSymlinks ?? false);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) {
    const [[code = 'SOURCE_UNREADABLE', first = ''] = [], ...rest] = problems;
    throw new AiscError(code as 'SOURCE_UNREADABLE', `${path}: ${first}`, { problems: rest.map(([, message]) => `${path}: ${message}`) });
  }
  if (entries.length === 0) throw new AiscError('SOURCE_EMPTY', `${path}: expected at least one file to lock, got none`);
  const kind = options.kind ?? inferKind(entries.map((entry) => entry.path));
  if (!kind) throw new AiscError('KIND_REQUIRED', `${path}: cannot tell what kind of artifact this is; pass --kind model|adapter|tokenizer|dataset`);
  const jobs = entries.map((entry) => ({
    path: entry.path,
    root: target.realRoot,
    expectedSize: entry.size,
    followSymlinks: options.allowSymlinks ?? false,
    inspect: getInspection(entry.path),
  }));
  return { name, kind, path, target, entries, jobs };
}

/** [code, message] for an entry that cannot be locked as it is. */
function getEntryProblem(entry: WalkEntry, allowSymlinks: boolean): [string, string] | undefined {
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

/** A bundle kept inside the model folder is not part of what it signs: its path there, to ignore. */
export function getBundleInside(source: string | undefined, bundle: string | undefined): string[] {
  if (source === undefined || bundle === undefined) return [];
  const rel = relative(resolve(source), resolve(bundle));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return [];
  return [rel.split(sep).join('/')];
}
