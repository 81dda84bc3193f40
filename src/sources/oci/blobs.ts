import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { lstat, mkdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AiscError, errnoCode } from '../../errors.js';
import { makeFolder, withFileLock } from '../../io/index.js';
import { ContentHasher } from '../content-hash.js';
import { downloadFile, type ContentCheck, type Expected } from '../download.js';
import { holdsLocked } from '../restore.js';
import type { OciClient } from './client.js';
import { blobPath } from './layout.js';
import type { Descriptor } from './manifest.js';

/** A blob into the layout's blobs/sha256/, resumable, under a lock on it; nothing when it is there and right. */
export async function ensureBlob(client: OciClient, layout: string, layer: Descriptor, what: string, onBytes: (n: number) => void): Promise<string> {
  const dest = blobPath(layout, layer.digest);
  const expected: Expected = { size: layer.size, sha256: layer.digest.slice('sha256:'.length) };
  await makeFolder(dirname(dest));
  await withFileLock(`${dest}.aisc.lock`, {}, async () => {
    if (await holdsLocked(dest, expected)) return;
    await downloadFile({ dest, partial: `${dest}.aisc-download`, expected, what, onBytes, request: (from) => client.blob(layer.digest, from) });
  });
  return dest;
}

/** A blob's bytes into `dest` through a partial beside it: hashed and judged in the same pass, renamed only on a match. */
export async function copyVerified(from: string, dest: string, expected: Expected, check: ContentCheck, what: string): Promise<void> {
  const partial = `${dest}.aisc-download`;
  const hasher = new ContentHasher(expected.size, false);
  const fd = openSync(partial, 'w');
  try {
    for await (const chunk of createReadStream(from, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      if (!hasher.update(chunk)) break;
      check.feed(chunk);
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  if (hasher.size !== expected.size || hasher.digest().sha256 !== expected.sha256) {
    await unlink(partial).catch(() => undefined);
    throw new AiscError('CONTENT_MISMATCH', `${what}: the layout's blob is not what is locked; nothing was placed`);
  }
  try {
    check.verify();
  } catch (error) {
    await unlink(partial).catch(() => undefined);
    throw error;
  }
  await rename(partial, dest);
}

export function toWriteError(path: string, error: unknown): AiscError<string> {
  return error instanceof AiscError ? (error as AiscError<string>) : new AiscError('WRITE_FAILED', `${path}: ${(error as Error).message}`);
}

/** The folders from the artifact's folder down to a file's, made as needed; a link or a file on the way is refused (a write never follows one out). */
export async function prepareFolder(folder: string, path: string): Promise<void> {
  await makeFolder(folder);
  const parts = path.split('/').slice(0, -1);
  let at = folder;
  for (const part of parts) {
    at = join(at, part);
    try {
      const stats = await lstat(at);
      if (stats.isSymbolicLink() || !stats.isDirectory()) throw new AiscError('SYMLINK_REFUSED', `${at}: expected a folder of the artifact, found ${stats.isSymbolicLink() ? 'a symlink' : 'a file'}; nothing is written through it`);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      await mkdir(at).catch((e: unknown) => {
        if (errnoCode(e) !== 'EEXIST') throw e;
      });
    }
  }
}
