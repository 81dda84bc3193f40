import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ContentInspector } from '../formats/inspect.js';
import type { Inspection } from '../formats/inspection.js';
import { AiscError } from '../errors.js';
import { confine, discardFile, inPlace, renameInto, type WriteRoot } from '../io/index.js';
import { ChunkDigests } from '../hashing/chunk-digests.js';
import { wantsChunks } from '../lockfile/chunks.js';
import { getPathProblem } from '../lockfile/paths.js';
import type { FileChunks } from '../lockfile/types.js';
import { downloadFile } from './download.js';
import type { HttpResponse } from './http.js';
import { toLocalSource } from './local.js';
import { toLockfileRoot } from './restore.js';
import type { Network } from './network.js';

/** A download read while locking, and where it is staged until the lock is recorded. */
export interface Fetched<T> {
  result?: T;
  sha256: string;
  size: number;
  /** With a chunk size asked for and a file of at least two chunks: their digests, from the same pass. */
  chunks?: FileChunks;
  etag?: string;
  /** With a place to keep it: puts the staged download there (the lock is being recorded). */
  commit(): Promise<void>;
  /** Drops the staged download (the lock failed): what was at the place before stays. */
  discard(): Promise<void>;
}

/** Where --path keeps a download: recorded relative to the lockfile's folder, and only inside it. */
export interface Kept {
  /** As recorded. */
  path: string;
  root: WriteRoot;
}

/**
 * --path as the lockfile records it. A path fetch could not write again (outside the lockfile's
 * folder: fetch writes nowhere else, whatever a lockfile says) is refused before any download.
 */
export function toKept(keepAt: string | undefined, lockfile: string): Kept | undefined {
  if (keepAt === undefined) return undefined;
  const path = toLocalSource(keepAt, lockfile).path;
  const root = toLockfileRoot(lockfile);
  const problem = getPathProblem(path);
  if (problem) throw new AiscError('PATH_INVALID', `--path ${keepAt}: aisc keeps a download only under the lockfile's folder (${root.folder}), where aisc fetch can write it again; it would be recorded as ${JSON.stringify(path)}, which ${problem}`);
  return { path, root };
}

/**
 * GETs a URL once: with a place to keep it, downloaded beside that place (confined, never through
 * a link) and read back from disk, and moved there only by `commit` (a refused lock leaves what
 * was there); without, read straight from the network. `consume` sees the bytes either way.
 */
export async function fetchUrl<T = undefined>(url: URL, spec: string, kept: Kept | undefined, network: Network, consume?: (body: AsyncIterable<Buffer>) => Promise<T>, chunkSize?: number): Promise<Fetched<T>> {
  if (kept !== undefined) {
    const keepAt = await confine(kept.root, kept.path).catch((error: unknown) => {
      throw inPlace(error, spec);
    });
    const staged = `${keepAt}.aisc-staged`;
    const request = async (): Promise<HttpResponse> => (await network.http()).send(url.href, { what: spec });
    const downloaded = await downloadFile({ dest: staged, partial: `${keepAt}.aisc-download`, root: kept.root, what: spec, request, ...(chunkSize === undefined ? {} : { chunkSize }) }).catch((error: unknown) => {
      throw inPlace(error, spec);
    });
    try {
      const result = consume ? await consume(createReadStream(staged, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) : undefined;
      return {
        result,
        sha256: downloaded.sha256,
        size: downloaded.size,
        ...toChunks(downloaded.size, chunkSize, downloaded.chunks),
        ...(downloaded.etag ? { etag: downloaded.etag } : {}),
        commit: () => renameInto(staged, keepAt, kept.root),
        discard: () => discardFile(staged),
      };
    } catch (error) {
      await discardFile(staged).catch(() => undefined);
      throw error;
    }
  }
  const response = await (await network.http()).send(url.href, { what: spec });
  const hashed = await hashTee(response.body as AsyncIterable<Buffer>, consume ?? drain, chunkSize);
  const etag = response.headers.etag;
  const nothing = (): Promise<void> => Promise.resolve();
  return { result: hashed.result, sha256: hashed.sha256, size: hashed.size, ...toChunks(hashed.size, chunkSize, hashed.chunks), ...(etag ? { etag } : {}), commit: nothing, discard: nothing };
}

/** Chunk digests worth recording: of a file of at least two chunks (lockfile.md). */
function toChunks(size: number, chunkSize: number | undefined, digests: string[] | undefined): { chunks?: FileChunks } {
  return chunkSize !== undefined && digests && wantsChunks(size, chunkSize) ? { chunks: { size: chunkSize, sha256: digests } } : {};
}

/** SHA-256, chunk digests and length of a stream while `consume` reads it too. */
async function hashTee<T>(body: AsyncIterable<Buffer>, consume: (body: AsyncIterable<Buffer>) => Promise<T>, chunkSize: number | undefined): Promise<{ result: T; sha256: string; size: number; chunks?: string[] }> {
  const hash = createHash('sha256');
  const chunks = chunkSize === undefined ? undefined : new ChunkDigests(chunkSize);
  let size = 0;
  async function* tap(): AsyncIterable<Buffer> {
    for await (const chunk of body) {
      hash.update(chunk);
      chunks?.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  const result = await consume(tap());
  return { result, sha256: hash.digest('hex'), size, ...(chunks ? { chunks: chunks.end() } : {}) };
}

/** What a stream is, from its bytes: it is read to its end (from the network, the download being hashed). */
export async function inspectStream(body: AsyncIterable<Buffer>, name: string): Promise<Inspection> {
  const inspector = new ContentInspector(undefined, name);
  for await (const chunk of body) inspector.feed(chunk);
  return inspector.end();
}

async function drain(body: AsyncIterable<Buffer>): Promise<undefined> {
  for await (const chunk of body) void chunk;
  return undefined;
}

/** `length` bytes after skipping `skip` (a server that ignored the Range), then the body is dropped. */
export async function readPrefix(body: AsyncIterable<Buffer> & { destroy(): unknown }, skip: number, length: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  let at = -skip;
  for await (const chunk of body) {
    const start = Math.max(0, -at);
    if (start < chunk.length) chunk.copy(out, Math.max(0, at), start, Math.min(chunk.length, start + length - Math.max(0, at)));
    at += chunk.length;
    if (at >= length) break;
  }
  body.destroy();
  return at >= length ? out : out.subarray(0, Math.max(0, at));
}
