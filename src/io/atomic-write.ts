import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AiscError, errnoCode } from '../errors.js';

/** The temp file a write goes through: `.<name>.<pid>.<hex>.tmp` beside the target. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Matches the temp files of `name` (see tempPathFor) and captures the writer's pid. */
export function toTempPattern(name: string): RegExp {
  return new RegExp(`^\\.${escapeRegExp(name)}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Writes `data` so that readers see the old file or the new one, never a part: a temp file in the
 * same folder, fsync, rename over, fsync the folder. A crash at any point leaves the old file.
 * `beforeRename` runs last, with the temp file complete: a check that may still cancel the write.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: { what?: string; beforeRename?: () => Promise<void> } = {}): Promise<void> {
  const temp = tempPathFor(path);
  let mode = 0o644;
  try {
    // The mode of the file replaced, never of what a link there points to.
    const stats = await lstat(path);
    if (stats.isFile()) mode = stats.mode & 0o777;
  } catch {
    // a new file keeps the default mode
  }
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await options.beforeRename?.();
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    if (error instanceof AiscError) throw error;
    throw new AiscError('WRITE_FAILED', `${path}: cannot write the ${options.what ?? 'file'} (${errnoCode(error) ?? String(error)}); the previous file is unchanged`, { cause: error });
  }
  await syncFolder(dirname(path));
}

/**
 * A file written in pieces, put in place under a name `write` returns once it is done (a
 * content-addressed manifest, named by its digest): a temp file in `folder` created exclusively
 * without following a link, fsync, rename, fsync the folder. On any failure the temp file goes and
 * nothing is put in place.
 */
export async function writeFileAtomicStream(folder: string, stem: string, write: (handle: FileHandle) => Promise<string>, what: string): Promise<string> {
  const temp = tempPathFor(join(folder, stem));
  let path: string;
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      path = join(folder, await write(handle));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    if (error instanceof AiscError) throw error;
    throw new AiscError('WRITE_FAILED', `${folder}: cannot write ${what} (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
  await syncFolder(folder);
  return path;
}

/** fsync a folder, so a rename in it survives a crash (some filesystems refuse: then best effort). */
export async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // some filesystems refuse fsync on a folder; the rename is still atomic
  }
}
