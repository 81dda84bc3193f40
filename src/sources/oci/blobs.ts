import { createReadStream } from 'node:fs';
import { AiscError } from '../../errors.js';
import { commitFile, confine, createFile, discardFile, withFileLock, type WriteRoot } from '../../io/index.js';
import { ContentHasher } from '../content-hash.js';
import { downloadFile, type ContentCheck, type Expected } from '../download.js';
import { holdsLocked, toPlaced, type Placed } from '../restore.js';
import type { OciClient } from './client.js';
import type { Descriptor } from './manifest.js';

/** Where fetch writes an OCI artifact's files: `base` under `root`, confined (see getOciPlace). */
export interface OciPlace {
  root: WriteRoot;
  base: string;
}

/** An OCI image layout given with --oci-layout, as a place nothing is written through a link under. */
export function toLayoutRoot(layout: string): WriteRoot {
  return { folder: layout, what: 'the OCI layout', hint: 'remove the link, or give another --oci-layout' };
}

/** A blob into the layout's blobs/sha256/, resumable, under a lock on it; nothing when it is there and right. */
export async function ensureBlob(client: OciClient, layout: string, layer: Descriptor, what: string, onBytes: (n: number) => void): Promise<string> {
  const root = toLayoutRoot(layout);
  const hex = layer.digest.slice('sha256:'.length);
  const dest = await confine(root, `blobs/sha256/${hex}`);
  const expected: Expected = { size: layer.size, sha256: hex };
  await withFileLock(`${dest}.aisc.lock`, {}, async () => {
    if (await holdsLocked(dest, expected)) return;
    await downloadFile({ dest, partial: `${dest}.aisc-download`, root, expected, what, onBytes, request: (from) => client.blob(layer.digest, from) });
  });
  return dest;
}

/**
 * A blob's bytes into `dest` through a partial beside it (created exclusively, never through a
 * link): hashed (with chunk digests when `chunkSize` is given) and judged in the same pass,
 * renamed only on a match. What that pass found is returned for the hash record.
 */
export async function copyVerified(from: string, dest: string, expected: Expected, check: ContentCheck, what: string, root: WriteRoot, chunkSize?: number): Promise<Placed> {
  const partial = `${dest}.aisc-download`;
  await discardFile(partial);
  const handle = await createFile(partial);
  const hasher = new ContentHasher(expected.size, false, chunkSize);
  try {
    for await (const chunk of createReadStream(from, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      if (!hasher.update(chunk)) break;
      check.feed(chunk);
      await handle.write(chunk);
    }
    const digest = hasher.digest();
    if (hasher.size !== expected.size || digest.sha256 !== expected.sha256) throw new AiscError('CONTENT_MISMATCH', `${what}: the layout's blob is not what is locked; nothing was placed`);
    const inspection = check.verify();
    await commitFile(handle, partial, dest, root);
    return toPlaced(dest, expected.size, digest, chunkSize, inspection ?? undefined);
  } catch (error) {
    await discardFile(partial).catch(() => undefined);
    throw error;
  } finally {
    await handle.close();
  }
}

export function toWriteError(path: string, error: unknown): AiscError<string> {
  return error instanceof AiscError ? (error as AiscError<string>) : new AiscError('WRITE_FAILED', `${path}: ${(error as Error).message}`);
}

/** A file's place in the artifact's folder, every folder on the way made or checked under the root (a link or a file there is refused, never followed). */
export function prepareFile(place: OciPlace, path: string): Promise<string> {
  return confine(place.root, `${place.base}/${path}`);
}
