import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, rename, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AiscError, errnoCode, isAiscError } from '../errors.js';
import { getPathProblem } from './relative-path.js';
import { syncFolder, tempPathFor } from './atomic-write.js';
import { makeFolder } from './make-folder.js';

/**
 * A folder aisc writes under: the lockfile's folder, the Hugging Face cache. The folder itself is
 * where the user put it (a mount, HF_HOME on another disk: it may be reached through links); below
 * it, data an attacker may shape (a lockfile in a pull request, a cache shared between users)
 * decides the names, so nothing below it is followed through a link.
 */
export interface WriteRoot {
  folder: string;
  /** For messages: "the lockfile's folder", "the Hugging Face cache". */
  what: string;
  /** What to do about a refusal, for messages. */
  hint?: string;
}

/** Refusals are WRITE_REFUSED (exit 2); a domain may recode them (the HF cache's are CACHE_UNSAFE). */
const O_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** O_NONBLOCK: a FIFO planted at a partial's name opens at once and is then refused by fstat. */
const O_RESUME = constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * The one way to a path aisc writes: `relative` must pass the path grammar (no `..`, nothing
 * absolute, no empty segment), and every folder between the root and it is found or made one at a
 * time and checked with lstat, so a link or a file anywhere below the root is refused, never
 * followed. Returns the absolute path; its last component is the caller's to create (exclusively,
 * see createFile / openPartial) or to rename over (which replaces a link, never writes through it).
 */
export async function confine(root: WriteRoot, relative: string): Promise<string> {
  const problem = getPathProblem(relative);
  if (problem) throw new AiscError('PATH_INVALID', `${JSON.stringify(relative)} ${problem}; aisc writes only under ${root.what} (${root.folder})`);
  await makeFolder(root.folder).catch((error: unknown) => {
    throw new AiscError('WRITE_FAILED', `${root.folder}: cannot create ${root.what} (${errnoCode(error) ?? String(error)})`, { cause: error });
  });
  const parts = relative.split('/');
  let at = root.folder;
  for (const part of parts.slice(0, -1)) {
    at = join(at, part);
    await ensureFolder(at, root);
  }
  return join(at, parts[parts.length - 1] ?? '');
}

/** A folder below the root: made when missing, and in any case a real folder, not a link or a file. */
async function ensureFolder(path: string, root: WriteRoot): Promise<void> {
  let stats = await lstatOrUndefined(path);
  if (!stats) {
    try {
      await mkdir(path);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw new AiscError('WRITE_FAILED', `${path}: cannot create the folder (${errnoCode(error) ?? String(error)})`, { cause: error });
    }
    stats = await lstatOrUndefined(path);
  }
  if (stats?.isSymbolicLink()) throw refused(root, `${path} is a symlink; aisc writes under ${root.what} only through real folders`);
  if (!stats?.isDirectory()) throw refused(root, `${path} is ${describe(stats)} where a folder belongs`);
}

/** A new file, created exclusively without following a link: whatever is at `path` makes it fail. */
export async function createFile(path: string, mode = 0o644): Promise<FileHandle> {
  try {
    return await open(path, O_NEW, mode);
  } catch (error) {
    throw new AiscError('WRITE_FAILED', `${path}: cannot create (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
}

export interface OpenedPartial {
  handle: FileHandle;
  /** Bytes already in it (0 for a new file). */
  size: number;
  /** Set when something else was at its name (a link, a FIFO) and was removed: what it was. */
  replaced?: string;
}

/**
 * A partial download to resume, or a new one. An existing file is opened without following a link
 * and checked with fstat to be a regular file. Anything else at the name is not aisc's partial: a
 * link or special file is unlinked (the link itself, never what it points to; the name is aisc's
 * own, so nothing of anyone else's is lost) and a new file is created; a folder is refused (aisc
 * removes no folder it did not make).
 */
export async function openPartial(path: string, root: WriteRoot): Promise<OpenedPartial> {
  let replaced: string | undefined;
  try {
    const handle = await open(path, O_RESUME);
    const stats = await handle.stat();
    if (stats.isFile()) return { handle, size: stats.size };
    await handle.close();
    replaced = describe(stats);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EISDIR') throw refused(root, `${path} is a folder where aisc keeps a partial download; remove it`);
    if (code === 'ELOOP' || code === 'ENXIO') replaced = code === 'ELOOP' ? 'a symlink' : 'a socket';
    else if (code !== 'ENOENT') throw new AiscError('WRITE_FAILED', `${path}: cannot open the partial download (${code ?? String(error)})`, { cause: error });
  }
  if (replaced !== undefined) await discardFile(path);
  return { handle: await createFile(path), size: 0, ...(replaced !== undefined ? { replaced } : {}) };
}

/** Removes a file aisc wrote (or a link at one of its names): unlink never follows a link. */
export async function discardFile(path: string): Promise<void> {
  await unlink(path).catch((error: unknown) => {
    if (errnoCode(error) !== 'ENOENT') throw new AiscError('WRITE_FAILED', `${path}: cannot remove (${errnoCode(error) ?? String(error)})`, { cause: error });
  });
}

/**
 * Puts a finished file in place: synced, then renamed over `dest` (a link there is replaced, not
 * written through), and the folder synced. The file renamed must still be the one written (same
 * inode): a name swapped under it meanwhile is refused.
 */
export async function commitFile(handle: FileHandle, from: string, dest: string, root: WriteRoot): Promise<void> {
  await handle.sync();
  const written = await handle.stat();
  const now = await lstatOrUndefined(from);
  if (!now || now.ino !== written.ino || now.dev !== written.dev) throw refused(root, `${from} was replaced while aisc wrote it; nothing was put in place`);
  await renameInto(from, dest, root);
  await syncFolder(dirname(dest));
}

/** rename, with a folder (or anything rename cannot replace) at `dest` refused by a coded error. */
export async function renameInto(from: string, dest: string, root: WriteRoot): Promise<void> {
  try {
    await rename(from, dest);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
      throw refused(root, `${dest} is ${describe(await lstatOrUndefined(dest))} where a file belongs; aisc removes nothing it did not write`);
    }
    throw new AiscError('WRITE_FAILED', `${dest}: cannot put in place (${code ?? String(error)})`, { cause: error });
  }
}

/** A relative symlink at `path` (confined by the caller), replacing what link was there atomically. */
export async function placeLink(target: string, path: string, root: WriteRoot): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await symlink(target, temp);
  } catch (error) {
    throw new AiscError('WRITE_FAILED', `${temp}: cannot create a link (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
  try {
    await renameInto(temp, path, root);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** `what: message`, for an error from this module met while doing `what` (a file of an artifact). */
export function inPlace(error: unknown, what: string, codes: Partial<Record<string, string>> = {}): unknown {
  if (!isAiscError(error) || !['WRITE_REFUSED', 'PATH_INVALID', 'WRITE_FAILED'].includes(error.code)) return error;
  const code = Object.hasOwn(codes, error.code) ? (codes[error.code] ?? error.code) : error.code;
  return new AiscError(code, `${what}: ${error.message}`, { cause: error.cause ?? error, problems: error.problems });
}

function refused(root: WriteRoot, message: string): AiscError {
  return new AiscError('WRITE_REFUSED', `${message}${root.hint ? ` (${root.hint})` : ''}`);
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw new AiscError('WRITE_FAILED', `${path}: cannot inspect (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
}

function describe(stats: Stats | undefined): string {
  if (!stats) return 'nothing';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isSymbolicLink()) return 'a symlink';
  if (stats.isFile()) return 'a file';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  return 'a device';
}

