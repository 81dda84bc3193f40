import { createReadStream } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AiscError, errnoCode, isAiscError } from '../errors.js';
import { makeFolder } from '../io/index.js';
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
}

export interface DownloadOptions {
  /** Where the file ends up, renamed into place only once its digest is right. */
  dest: string;
  /** Where the bytes go while they arrive: kept on a network failure so the next run resumes. */
  partial: string;
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
}

/** Sees every byte of a download once, in order, and may refuse it. */
export interface ContentCheck {
  feed(chunk: Buffer): void;
  /** Throws (an AiscError naming the file and why) when the bytes must not land. */
  verify(): void;
}

export interface Downloaded {
  sha256: string;
  size: number;
  gitOid?: string;
  etag?: string;
  /** Bytes taken from an earlier partial download rather than the network. */
  resumed: number;
}

/**
 * Downloads one file, hashed while it streams into `partial`: resumed with Range where an earlier
 * run stopped, renamed to `dest` only when size and digest are what is expected. Bytes that differ
 * are CONTENT_MISMATCH (exit 1) and nothing of them is left; a broken connection keeps the part
 * already written for the next run.
 */
export async function downloadFile(options: DownloadOptions): Promise<Downloaded> {
  await makeFolder(dirname(options.partial));
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      return await downloadOnce(options);
    } catch (error) {
      if (!(error instanceof BrokenOff) || attempt >= retries) {
        if (error instanceof BrokenOff) {
          // Without an expected digest a partial file cannot be trusted to resume from: drop it.
          if (!options.expected) {
            await unlink(options.partial).catch(() => undefined);
            throw new AiscError('HTTP_FAILED', `${options.what}: ${error.message}; nothing was kept, run again`);
          }
          throw new AiscError('HTTP_FAILED', `${options.what}: ${error.message}; run again to resume from the ${error.written} bytes kept`);
        }
        throw error;
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

async function downloadOnce(options: DownloadOptions): Promise<Downloaded> {
  const { expected } = options;
  // Without an expectation there is nothing to check a resumed prefix against: start over.
  let from = expected ? await getPartialSize(options.partial, expected.size) : 0;
  const hasher = new ContentHasher(expected?.size ?? Number.MAX_SAFE_INTEGER, expected?.gitOid !== undefined);
  let check = options.check?.();
  if (from > 0) from = await hashPrefix(options.partial, hasher, from, check);
  const response = await options.request(from);
  if (from > 0 && response.status === 206 && !getRangeStart(response.headers['content-range'], from)) {
    await response.body.dump();
    throw new AiscError('HTTP_RESPONSE_INVALID', `${options.what}: asked for bytes from ${from}, ${redact(response.url)} sent ${response.headers['content-range'] ?? 'no Content-Range'}`);
  }
  let resumed = from;
  let handle: FileHandle;
  if (from > 0 && response.status === 206) {
    handle = await open(options.partial, 'a');
  } else {
    // A 200 to a Range request is the whole file again.
    handle = await open(options.partial, 'w');
    if (from > 0) {
      hasher.reset();
      check = options.check?.();
      resumed = 0;
    }
  }
  let written = resumed;
  // Chunks arrive at 64 KiB; they are written in 4 MiB slices, one write in flight while the
  // next slice is received and hashed.
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  const flush = async (): Promise<void> => {
    await inFlight;
    if (pendingBytes === 0) return;
    const slice = Buffer.concat(pending, pendingBytes);
    pending.length = 0;
    written += pendingBytes;
    pendingBytes = 0;
    inFlight = handle.write(slice);
  };
  try {
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        if (!hasher.update(chunk)) {
          response.body.destroy();
          throw mismatch(options, `more than the ${expected?.size ?? 0} bytes locked`);
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
    await handle.sync();
  } finally {
    await handle.close();
  }
  const digest = hasher.digest();
  if (expected && digest.sha256 !== expected.sha256) throw mismatch(options, `SHA-256 ${digest.sha256}, locked ${expected.sha256}`);
  if (expected?.gitOid !== undefined && digest.gitOid !== expected.gitOid) throw mismatch(options, `git blob ${digest.gitOid ?? '?'}, listed ${expected.gitOid}`);
  try {
    check?.verify();
  } catch (error) {
    // Refused bytes are the locked ones, but nothing of them lands, not even for a resume.
    await unlink(options.partial).catch(() => undefined);
    throw error;
  }
  await rename(options.partial, options.dest);
  const etag = response.headers.etag;
  return { sha256: digest.sha256, size: written, resumed, ...(digest.gitOid ? { gitOid: digest.gitOid } : {}), ...(etag ? { etag } : {}) };

  function mismatch(o: DownloadOptions, detail: string): AiscError {
    // Nothing of bytes that are not what was locked is kept, not even for a resume.
    void unlink(o.partial).catch(() => undefined);
    return new AiscError('CONTENT_MISMATCH', `${o.what}: the bytes served are not what is locked (${detail}); nothing was kept`);
  }
}

/** Size of a partial download to resume, or 0 (none, or longer than the file can be). */
async function getPartialSize(partial: string, size: number): Promise<number> {
  try {
    const stats = await stat(partial);
    return stats.isFile() && stats.size <= size ? stats.size : 0;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 0;
    throw error;
  }
}

/** Feeds the first `length` bytes of the partial file to the hasher and the check; returns how many it had. */
async function hashPrefix(partial: string, hasher: ContentHasher, length: number, check: ContentCheck | undefined): Promise<number> {
  let done = 0;
  for await (const chunk of createReadStream(partial, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hasher.update(chunk);
    check?.feed(chunk);
    done += chunk.length;
  }
  return done;
}

function getRangeStart(header: string | undefined, from: number): boolean {
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header ?? '');
  return match !== null && Number(match[1]) === from;
}
