import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AiscError, errnoCode } from '../errors.js';
import { escapeRegExp, toTempPattern } from '../io/index.js';
import type { Layout, LocalSource } from '../lockfile/types.js';

/** A local artifact resolved on disk: the real folder everything is read under. */
export interface LocalTarget {
  layout: Layout;
  /** directory: the folder's real path; file: the real path of the folder holding the file. */
  realRoot: string;
  /** file layout: the file's name inside realRoot. */
  fileName?: string;
  /** file layout: the file itself is a symlink. */
  isSymlink?: boolean;
}

/**
 * Resolves what a user or lockfile names. The path given may itself pass through symlinks (a
 * mount, /tmp on macOS); what lies inside the artifact may not, unless allowed.
 */
export function resolveLocalTarget(path: string): LocalTarget {
  const stats = statOrThrow(path);
  if (stats.isDirectory()) return { layout: 'directory', realRoot: realpathSync(path) };
  if (stats.isFile()) return { layout: 'file', realRoot: realpathSync(dirname(path)), fileName: basename(path) };
  if (stats.isSymbolicLink()) {
    const target = statOrThrow(realpathOrThrow(path));
    if (target.isDirectory()) return { layout: 'directory', realRoot: realpathSync(path) };
    return { layout: 'file', realRoot: realpathSync(dirname(path)), fileName: basename(path), isSymlink: true };
  }
  throw new AiscError('NOT_A_FILE', `${path}: expected a file or a folder`);
}

function statOrThrow(path: string): ReturnType<typeof lstatSync> & object {
  try {
    return lstatSync(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new AiscError('SOURCE_NOT_FOUND', `${path}: no such file or folder`, { cause: error });
    throw new AiscError('SOURCE_UNREADABLE', `${path}: cannot read (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
}

function realpathOrThrow(path: string): string {
  try {
    return realpathSync(path);
  } catch (error) {
    throw new AiscError('SOURCE_NOT_FOUND', `${path}: a symlink to nothing (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
}

/** The source as recorded: relative to the lockfile's folder with '/' separators when possible. */
export function toLocalSource(path: string, lockfilePath: string): LocalSource {
  const absolute = resolve(path);
  const rel = relative(dirname(resolve(lockfilePath)), absolute);
  if (isAbsolute(rel)) return { type: 'local', path: absolute.split(sep).join('/') };
  return { type: 'local', path: rel === '' ? '.' : rel.split(sep).join('/') };
}

/** Resolves a path recorded relative to the lockfile's folder. */
export function fromLockfileFolder(path: string, lockfile: string): string {
  return isAbsolute(path) || path.startsWith('/') ? path : join(dirname(resolve(lockfile)), ...path.split('/'));
}

/** Where a recorded local source is on this machine. */
export function fromLocalSource(source: LocalSource, lockfilePath: string): string {
  if (source.path.startsWith('/')) return source.path;
  return join(dirname(resolve(lockfilePath)), ...source.path.split('/'));
}

/** Names of the lockfile and its sidecars (and .aisc beside it), to skip when the lockfile lives inside an artifact. */
export function toLockfileSkipper(lockfilePath: string, realRoot: string): (relativePath: string) => boolean {
  const absolute = resolve(lockfilePath);
  let realFolder: string;
  try {
    realFolder = realpathSync(dirname(absolute));
  } catch {
    return () => false;
  }
  const rel = relative(realRoot, realFolder);
  if (rel.startsWith('..') || isAbsolute(rel)) return () => false;
  const prefix = rel === '' ? '' : `${rel.split(sep).join('/')}/`;
  const name = basename(absolute);
  const temp = toTempPattern(name);
  const lock = new RegExp(`^${escapeRegExp(name)}\\.lock(?:\\.break)?(?:\\.\\d+\\.[0-9a-f]+\\.stale)?$`);
  return (path) => {
    if (!path.startsWith(prefix)) return false;
    const rest = path.slice(prefix.length);
    // .aisc beside the lockfile is aisc's own (manifests, npm evidence, approvals), never content.
    return rest === name || rest === '.aisc' || lock.test(rest) || temp.test(rest);
  };
}
