import type { FileHandle } from 'node:fs/promises';
import type { Inspection } from '../formats/inspection.js';
import type { FileChunks } from '../lockfile/types.js';
import { AiscError, isAiscError } from '../errors.js';
import { commitFile, discardFile, inPlace, openPartial, type WriteRoot } from '../io/index.js';
import { describeByteRange, getChunkRange } from '../lockfile/chunks.js';
import { ContentHasher } from './content-hash.js';
import type { HttpResponse } from './http.js';
import { describeNetworkError, redact } from './urls.js';

/** Bytes written to disk at once. */
const WRITE_SLICE_BYTES = 4 * 1024 * 1024;

export interface Expected {
  size: number;
  sha256: string;
  /** Also check the git blob SHA-1 (a Hub file outside LFS). */
  gitOid?: string;
  /** The locked chunk digests (of `chunkSize`-byte chunks), checked as each chunk completes. */
  chunks?: FileChunks;
}

export interface DownloadOptions {
  /** Where the file ends up, renamed into place only once its digest is right (confined by the caller: see confine). */
  dest: string;
  /** Where the bytes go while they arrive, beside `dest`: kept on a network failure so the next run resumes. */
  partial: string;
  /** The place both lie under, for refusals (a folder at `dest`, a link swapped in). */
  root: WriteRoot;
  /** What the bytes must be; without it (aisc lock of a URL) whatever arrives is hashed and kept. */
  expected?: Expected;
  /** What is downloaded, for messages. */
  what: string;
  /** GET from this offset on; `from > 0` asks for a Range. */
  request: (from: number) => Promise<HttpResponse>;
  onBytes?: (n: number) => void;
  /** Attempts after the first when the body breaks off (each resumes where it stopped). */
  retries?: number;
  /**
   * Reads the bytes in the pass that hashes them (the content gate): a fresh check for each pass
   * from the first byte; its `verify` runs once the digest is right and throws to refuse the file,
   * which is then removed, never renamed into place.
   */
  check?: () => ContentCheck;
  /** Told when a partial download left on disk was not the locked bytes and was discarded. */
  onNote?: (message: string) => void;
  /**
   * Also the SHA-256 of each chunk of this many bytes, in the same pass; with `expected.chunks`
   * each is held against the locked one as soon as it is complete, so bytes that differ stop the
   * download there rather than at its end.
   */
  chunkSize?: number;
}

/** Sees every byte of a download once, in order, and may refuse it. */
export interface ContentCheck {
  feed(chunk: Buffer): void;
  /** Throws (an AiscError naming the file and why) when the bytes must not land; else what they are, when it looked. */
  verify(): Inspection | void;
}

export interface Downloaded {
  sha256: string;
  size: number;
  gitOid?: string;
  /** What the content gate found the bytes to be (with a check). */
  inspection?: Inspection;
  /** With `chunkSize`: the chunk digests of the bytes (of a download resumed, of all of them). */
  chunks?: string[];
  etag?: string;
  /** Bytes taken from an earlier partial download rather than the network. */
  resumed: number;
}

/**
 * Downloads one file, hashed while it streams into `partial`: resumed with Range where an earlier
 * run stopped, renamed to `dest` only when size and digest are what is expected. A partial file
 * that already holds every byte is hashed and put in place without a request. A partial whose
 * bytes turn out wrong, or that the server will not resume (416), is discarded and the download
 * starts over from the first byte, once. Bytes served that differ are CONTENT_MISMATCH (exit 1)
 * and nothing of them is left; a broken connection keeps the part already written for the next run.
 */
export async function downloadFile(options: DownloadOptions): Promise<Downloaded> {
  const retries = options.retries ?? 3;
  let fresh = options.expected === undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      return await downloadOnce(options, fresh);
    } catch (error) {
      if (error instanceof BadPartial && !fresh) {
        await discardFile(options.partial).catch(() => undefined);
        if (error.why === 'bytes') options.onNote?.(`${options.what}: the partial download left on disk (${options.partial}, ${error.size} bytes) is not the locked bytes; it was discarded and the download started over`);
        fresh = true;
        continue;
      }
      if (!(error instanceof BrokenOff) || attempt >= retries) {
        if (error instanceof BrokenOff) {
          // Without an expected digest a partial file cannot be trusted to resume from: drop it.
          if (!options.expected) {
            await discardFile(options.partial).catch(() => undefined);
            throw new AiscError('HTTP_FAILED', `${options.what}: ${error.message}; nothing was kept, run again`);
          }
          throw new AiscError('HTTP_FAILED', `${options.what}: ${error.message}; run again to resume from the ${error.written} bytes kept`);
        }
        throw inPlace(error, options.what);
      }
    }
  }
}

/** The body stopped early: what was written is kept, and the next attempt resumes after it. */
class BrokenOff extends Error {
  constructor(
    message: string,
    readonly written: number,
  ) {
    super(message);
  }
}

/** The partial file on disk cannot be finished: its bytes are not the locked ones, or the server refuses to resume it (416). */
class BadPartial extends Error {
  constructor(
    readonly why: 'bytes' | 'refused',
    readonly size: number,
  ) {
    super(why);
  }
}

/** One pass: the partial file opened (or made), its bytes hashed, the rest requested, then put in place. */
async function downloadOnce(options: DownloadOptions, fresh: boolean): Promise<Downloaded> {
  const { expected } = options;
  const partial = await openPartial(options.partial, options.root);
  const handle = partial.handle;
  let closed = false;
  try {
    // Without an expectation there is nothing to check a resumed prefix against: start over.
    let from = !fresh && expected && partial.size <= expected.size ? partial.size : 0;
    if (from === 0 && partial.size > 0) await handle.truncate(0);
    const hasher = new ContentHasher(expected?.size ?? Number.MAX_SAFE_INTEGER, expected?.gitOid !== undefined, options.chunkSize);
    let check = options.check?.();
    if (from > 0) await hashPrefix(handle, hasher, from, check);
    // A partial file whose complete chunks are not the locked ones is not resumed from.
    if (from > 0 && getWrongChunk(options, hasher, 0)) throw new BadPartial('bytes', from);
    if (expected && from > 0 && from === expected.size) {
      // Every byte is already here (a run killed between its last write and the rename): no request.
      const digest = finish(options, hasher, from);
      closed = true;
      const inspection = await place(options, handle, check);
      return { ...digest, size: from, resumed: from, ...(inspection ? { inspection } : {}) };
    }
    const response = await request(options, from, partial.size);
    if (from > 0 && response.status === 206 && !getRangeStart(response.headers['content-range'], from)) {
      await response.body.dump();
      throw new AiscError('HTTP_RESPONSE_INVALID', `${options.what}: asked for bytes from ${from}, ${redact(response.url)} sent ${response.headers['content-range'] ?? 'no Content-Range'}`);
    }
    if (from > 0 && response.status !== 206) {
      // A 200 to a Range request is the whole file again.
      await handle.truncate(0);
      hasher.reset();
      check = options.check?.();
      from = 0;
    }
    const written = await receive(options, response, handle, hasher, check, from);
    const digest = finish(options, hasher, from);
    closed = true;
    const inspection = await place(options, handle, check);
    const etag = response.headers.etag;
    return { ...digest, size: written, resumed: from, ...(etag ? { etag } : {}), ...(inspection ? { inspection } : {}) };
  } finally {
    if (!closed) await handle.close();
  }
}

/** GET from `from`; a 416 to a resume means the partial file cannot be finished from there. */
async function request(options: DownloadOptions, from: number, partialSize: number): Promise<HttpResponse> {
  try {
    return await options.request(from);
  } catch (error) {
    if (from > 0 && isAiscError(error) && error.details?.status === 416) throw new BadPartial('refused', partialSize);
    throw error;
  }
}

/**
 * Streams the body into the partial file after `from`, hashed and checked as it comes. Chunks
 * arrive at 64 KiB; they are written in 4 MiB slices, one write in flight while the next slice is
 * received and hashed. Returns the bytes the file now holds.
 */
async function receive(options: DownloadOptions, response: HttpResponse, handle: FileHandle, hasher: ContentHasher, check: ContentCheck | undefined, from: number): Promise<number> {
  const { expected } = options;
  let written = from;
  // A resumed prefix's chunks were checked before the request.
  let checkedChunks = hasher.completedChunks.length;
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  const flush = async (): Promise<void> => {
    await inFlight;
    if (pendingBytes === 0) return;
    const slice = Buffer.concat(pending, pendingBytes);
    const at = written;
    pending.length = 0;
    written += pendingBytes;
    pendingBytes = 0;
    inFlight = handle.write(slice, 0, slice.length, at);
  };
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      if (!hasher.update(chunk)) {
        response.body.destroy();
        throw mismatchNow(options, `more than the ${expected?.size ?? 0} bytes locked`);
      }
      const wrong = getWrongChunk(options, hasher, checkedChunks);
      checkedChunks = hasher.completedChunks.length;
      if (wrong) {
        response.body.destroy();
        throw wrong;
      }
      check?.feed(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      options.onBytes?.(chunk.length);
      if (pendingBytes >= WRITE_SLICE_BYTES) await flush();
    }
    await flush();
    await inFlight;
  } catch (error) {
    await inFlight.catch(() => undefined);
    if (isAiscError(error)) throw error;
    // What arrived is written, so the next attempt resumes after it.
    await flush().catch(() => undefined);
    await inFlight.catch(() => undefined);
    throw new BrokenOff(describeNetworkError(error, 'the server'), written);
  }
  if (expected && written < expected.size) throw new BrokenOff(`the answer ended after ${written} of ${expected.size} bytes`, written);
  return written;
}

/**
 * The digest of all the bytes, held against what is locked. Wrong bytes after a resume may be the
 * partial file's fault: BadPartial, and the caller starts over; wrong bytes served from the first
 * byte are the server's.
 */
function finish(options: DownloadOptions, hasher: ContentHasher, resumed: number): Omit<Downloaded, 'size' | 'resumed'> {
  const { expected } = options;
  const digest = hasher.digest();
  const wrong = expected && (digest.sha256 !== expected.sha256 || (expected.gitOid !== undefined && digest.gitOid !== expected.gitOid));
  if (wrong && resumed > 0) throw new BadPartial('bytes', resumed);
  if (expected && digest.sha256 !== expected.sha256) throw mismatchNow(options, `SHA-256 ${digest.sha256}, locked ${expected.sha256}`);
  if (expected?.gitOid !== undefined && digest.gitOid !== expected.gitOid) throw mismatchNow(options, `git blob ${digest.gitOid ?? '?'}, listed ${expected.gitOid}`);
  // The locked bytes, by their SHA-256, whose chunks are not the locked chunk digests: the lockfile contradicts itself.
  const wrongChunk = expected?.chunks && options.chunkSize === expected.chunks.size ? (digest.chunks ?? []).findIndex((value, k) => value !== expected.chunks?.sha256[k]) : -1;
  if (wrongChunk >= 0 && options.chunkSize !== undefined) {
    throw mismatchNow(options, `the bytes have the locked SHA-256, but ${describeChunk(wrongChunk, options.chunkSize, expected?.size ?? 0)} hash to another digest than the lockfile's chunk digest: the lockfile's chunk digests are not those of its own file`);
  }
  return { sha256: digest.sha256, ...(digest.gitOid ? { gitOid: digest.gitOid } : {}), ...(digest.chunks ? { chunks: digest.chunks } : {}) };
}

/**
 * A chunk completed since the last look whose digest is not the locked one: the download stops
 * there (CONTENT_MISMATCH naming its bytes) rather than at its end.
 */
function getWrongChunk(options: DownloadOptions, hasher: ContentHasher, checked: number): AiscError | undefined {
  const locked = options.expected?.chunks;
  const size = options.chunkSize;
  if (!locked || size === undefined || locked.size !== size) return undefined;
  const done = hasher.completedChunks;
  for (let k = checked; k < done.length; k++) {
    if (done[k] !== locked.sha256[k]) return mismatchNow(options, `${describeChunk(k, size, options.expected?.size ?? 0)} hash to another SHA-256 than the locked chunk digest`);
  }
  return undefined;
}

function describeChunk(index: number, chunkSize: number, size: number): string {
  const range = getChunkRange(index, chunkSize, size);
  return describeByteRange(range.start, range.end);
}

/** The gate's verdict on the right bytes, then the rename into place; refused bytes are removed. */
async function place(options: DownloadOptions, handle: FileHandle, check: ContentCheck | undefined): Promise<Inspection | undefined> {
  let inspection: Inspection | void;
  try {
    inspection = check?.verify();
  } catch (error) {
    // Refused bytes are the locked ones, but nothing of them lands, not even for a resume.
    await handle.close();
    await discardFile(options.partial).catch(() => undefined);
    throw error;
  }
  try {
    await commitFile(handle, options.partial, options.dest, options.root);
  } finally {
    await handle.close();
  }
  return inspection ?? undefined;
}

function mismatchNow(options: DownloadOptions, detail: string): AiscError {
  // Nothing of bytes that are not what was locked is kept, not even for a resume.
  void discardFile(options.partial).catch(() => undefined);
  return new AiscError('CONTENT_MISMATCH', `${options.what}: the bytes served are not what is locked (${detail}); nothing was kept`);
}

/** Feeds the first `length` bytes of the partial file, read through its handle, to the hasher and the check. */
async function hashPrefix(handle: FileHandle, hasher: ContentHasher, length: number, check: ContentCheck | undefined): Promise<void> {
  const buffer = Buffer.alloc(Math.min(length, 1024 * 1024));
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - done), done);
    if (bytesRead === 0) break;
    const chunk = buffer.subarray(0, bytesRead);
    hasher.update(chunk);
    check?.feed(Buffer.from(chunk));
    done += bytesRead;
  }
}

function getRangeStart(header: string | undefined, from: number): boolean {
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header ?? '');
  return match !== null && Number(match[1]) === from;
}
