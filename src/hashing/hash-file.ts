import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, read, readlinkSync, readSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../errors.js';
import { ContentInspector } from '../formats/inspect.js';
import { ChunkDigests } from './chunk-digests.js';
import type { AnyHashResult, FileIdentity, HashFailure, HashJob, HashResult, WholeFileJob } from './types.js';

const PROC_FD = process.platform === 'linux' ? '/proc/self/fd/' : undefined;
// O_NONBLOCK: a FIFO planted where a file was must not hang the open.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;
/** From this size on, and with a core to spare, the next chunk is read while this one is hashed. */
export const OVERLAP_MIN_BYTES = 16 * 1024 * 1024;

/** Sequential reads stay small enough for the chunk to be hashed while still in the core's cache. */
const SEQUENTIAL_READ_BYTES = 1024 * 1024;

/** Two equal read buffers, reused for every file: memory stays constant whatever the size. */
export type ReadBuffers = readonly [Buffer, Buffer];

/**
 * How a file is read. `sync`: in one go on this thread (a worker). `overlap`: double-buffered on
 * libuv's threads while this one hashes (a spare core). `yield`: on this thread, a turn of the
 * event loop after each full buffer (the main thread, which also answers the workers: reads on
 * libuv's threads there cost it twice the copying, the buffer's lines moving between cores).
 */
export type ReadMode = 'sync' | 'overlap' | 'yield';

/**
 * Another thread that hashes a file's chunk digests from the very buffers this one reads and hashes
 * whole (lock of a big file with a thread to spare): each buffer crosses by transfer, never
 * copied, and comes back to be read into again. Read once, hashed twice, on two cores.
 */
export interface ChunkHelper {
  /** A free buffer to read into; waits for one to come back when all are lent. */
  take(): Promise<Buffer>;
  /** Lends a buffer holding `length` bytes just read (and already hashed here). */
  lend(buffer: Buffer, length: number): void;
  /** A buffer taken but not lent (the file ended). */
  keep(buffer: Buffer): void;
}

/**
 * Hashes one file. The digest is of exactly the bytes read; a file whose size or times move while
 * it is read is reported as FILE_CHANGED rather than trusted. With `overlap`, a big file's next
 * chunk is read on another thread while this one is hashed, so one file can keep two cores busy.
 * With `job.chunks`, each chunk's digest too (or instead: see HashJob); one range of a file spread
 * over the pool's threads always says which file it read (its identity), so the pool can tell that
 * every range was read from the same unchanged file.
 */
export async function hashFile(job: WholeFileJob, buffers: ReadBuffers, onBytes: (n: number) => void, mode?: ReadMode | boolean, helper?: ChunkHelper): Promise<HashResult>;
export async function hashFile(job: HashJob, buffers: ReadBuffers, onBytes: (n: number) => void, mode?: ReadMode | boolean, helper?: ChunkHelper): Promise<AnyHashResult>;
export async function hashFile(job: HashJob, buffers: ReadBuffers, onBytes: (n: number) => void, mode: ReadMode | boolean = 'sync', helper?: ChunkHelper): Promise<AnyHashResult> {
  const how: ReadMode = mode === true ? 'overlap' : mode === false ? 'sync' : mode;
  // The helper hashes the chunks (the caller joins its digests to this result): the whole file here.
  const helped = helper !== undefined && job.chunks?.whole === true && !job.range ? helper : undefined;
  const absolute = join(job.root, job.path);
  let fd: number;
  try {
    fd = openSync(absolute, job.followSymlinks ? OPEN_FLAGS : OPEN_FLAGS | constants.O_NOFOLLOW);
  } catch (error) {
    return toOpenFailure(error);
  }
  try {
    const before = fstatSync(fd, { bigint: true });
    if (!before.isFile()) return { ok: false, code: 'NOT_A_FILE', message: `expected a regular file, got ${describeType(before)}` };
    const escape = getContainmentProblem(fd, job, absolute);
    if (escape) return escape;
    const size = Number(before.size);
    if (job.expectedSize !== undefined && size !== job.expectedSize) {
      return { ok: false, code: 'SIZE_MISMATCH', message: 'size differs from the lockfile (not hashed)', size };
    }
    if (job.range && (job.range.start < 0 || job.range.end > size || job.range.start > job.range.end)) {
      return { ok: false, code: 'SIZE_MISMATCH', message: `range [${job.range.start}, ${job.range.end}) is outside the file's ${size} bytes`, size };
    }
    const whole = !job.chunks || job.chunks.whole ? createHash('sha256') : undefined;
    const chunks = job.chunks && !helped ? new ChunkDigests(job.chunks.size) : undefined;
    // What is judged is what was hashed: the inspector sees exactly the chunks the hash does. A
    // range is inspected only as the start of a spread file (an OMS shard is not inspected).
    const inspect = job.inspect === true && (!job.range || (job.chunks !== undefined && job.range.start === 0));
    const inspector = inspect ? new ContentInspector(size, job.path) : undefined;
    const sink = toSink(whole, chunks, inspector);
    const expected = job.range ? job.range.end - job.range.start : size;
    const overlap = how === 'overlap' && expected >= OVERLAP_MIN_BYTES;
    const total = helped
      ? await readLending(fd, sink, helped, onBytes)
      : how === 'yield'
      ? await readYielding(fd, sink, buffers[0], job.range ?? { start: null, end: Number.MAX_SAFE_INTEGER }, onBytes)
      : job.range
        ? overlap
          ? await readRangeOverlapped(fd, sink, buffers, job.range.start, job.range.end, onBytes)
          : readRange(fd, sink, buffers[0], job.range.start, job.range.end, onBytes)
        : overlap
          ? await readOverlapped(fd, sink, buffers, onBytes)
          : readSequential(fd, sink, buffers[0], onBytes);
    // A spread file's start whose format needs more than its first chunk (a zip, a pickle) is read
    // on for the inspector alone: the other threads hash those chunks, this one judges them.
    if (inspector && job.range && total === expected && !inspector.settled) readRange(fd, (chunk) => inspector.feed(chunk), buffers[0], job.range.end, size, () => undefined);
    const after = fstatSync(fd, { bigint: true });
    if (total !== expected || after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs) {
      return { ok: false, code: 'FILE_CHANGED', message: `changed while it was read (${size} bytes at open, ${total} read, ${after.size} at close)`, size: total };
    }
    const identity = job.identify || (job.range && job.chunks) ? { identity: toIdentity(after) } : {};
    const digests = whole ? { sha256: whole.digest('hex'), ...(chunks ? { chunks: chunks.end() } : {}) } : { chunks: chunks?.end() ?? [] };
    // One range of a spread file reports the file's size: the pool joins the ranges into the file.
    const reported = job.range && job.chunks ? size : total;
    if (!inspector) return { ok: true, ...digests, size: reported, ...identity };
    const inspection = inspector.end(size);
    // A bare format crosses threads as a string: 300,000 small files make no object each.
    const more = inspection.facts || inspection.pickles || inspection.opaque || inspection.invalid !== undefined;
    return { ok: true, ...digests, size: reported, format: inspection.format, ...(more ? { inspection } : {}), ...identity };
  } catch (error) {
    return { ok: false, code: 'UNREADABLE_FILE', message: `cannot read (${errnoCode(error) ?? String(error)})` };
  } finally {
    closeSync(fd);
  }
}

/** One function a chunk: a chunk read is hashed whole, by chunk, and inspected, as the job asks. */
function toSink(whole: Hash | undefined, chunks: ChunkDigests | undefined, inspector: ContentInspector | undefined): ChunkSink {
  if (whole && !chunks && !inspector) return (chunk) => whole.update(chunk);
  return (chunk) => {
    whole?.update(chunk);
    chunks?.update(chunk);
    inspector?.feed(chunk);
  };
}

/** The identity of the file as read (bigints as decimal strings: they cross threads and go to JSON). */
export function toIdentity(stats: BigIntStats): FileIdentity {
  return { dev: String(stats.dev), ino: String(stats.ino), size: Number(stats.size), mtimeNs: String(stats.mtimeNs), ctimeNs: String(stats.ctimeNs) };
}

/** Where each chunk read goes: the hash, and the content inspector when there is one. */
type ChunkSink = (chunk: Buffer) => void;

function readSequential(fd: number, sink: ChunkSink, buffer: Buffer, onBytes: (n: number) => void): number {
  const chunk = buffer.length > SEQUENTIAL_READ_BYTES ? buffer.subarray(0, SEQUENTIAL_READ_BYTES) : buffer;
  let total = 0;
  for (;;) {
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) return total;
    sink(n === chunk.length ? chunk : chunk.subarray(0, n));
    total += n;
    onBytes(n);
  }
}

function readRange(fd: number, sink: ChunkSink, buffer: Buffer, start: number, end: number, onBytes: (n: number) => void): number {
  const chunk = buffer.length > SEQUENTIAL_READ_BYTES ? buffer.subarray(0, SEQUENTIAL_READ_BYTES) : buffer;
  let position = start;
  while (position < end) {
    const n = readSync(fd, chunk, 0, Math.min(chunk.length, end - position), position);
    if (n === 0) break;
    sink(chunk.subarray(0, n));
    position += n;
    onBytes(n);
  }
  return position - start;
}

/**
 * Reads on this thread, from `start` (null: the file's own position, to its end) to `end`, with a
 * turn of the event loop after each full buffer: no buffer hashes longer than a millisecond or so
 * before the thread can answer others. Small files (one short read) give no turn.
 */
async function readYielding(fd: number, sink: ChunkSink, buffer: Buffer, range: { start: number | null; end: number }, onBytes: (n: number) => void): Promise<number> {
  const chunk = buffer.length > SEQUENTIAL_READ_BYTES ? buffer.subarray(0, SEQUENTIAL_READ_BYTES) : buffer;
  let total = 0;
  const start = range.start;
  while (start === null || start + total < range.end) {
    const want = start === null ? chunk.length : Math.min(chunk.length, range.end - start - total);
    const n = readSync(fd, chunk, 0, want, start === null ? null : start + total);
    if (n === 0) break;
    sink(n === chunk.length ? chunk : chunk.subarray(0, n));
    total += n;
    onBytes(n);
    if (n === chunk.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return total;
}

/** Reads in order into buffers the helper lends out once they are hashed here. */
async function readLending(fd: number, sink: ChunkSink, helper: ChunkHelper, onBytes: (n: number) => void): Promise<number> {
  let total = 0;
  for (;;) {
    const buffer = await helper.take();
    let n: number;
    try {
      n = readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      helper.keep(buffer);
      throw error;
    }
    if (n === 0) {
      helper.keep(buffer);
      return total;
    }
    sink(n === buffer.length ? buffer : buffer.subarray(0, n));
    helper.lend(buffer, n);
    total += n;
    onBytes(n);
  }
}

/** One read on libuv's threads: at `position`, or from the file's own position when null. */
function readInto(fd: number, buffer: Buffer, length = buffer.length, position: number | null = null): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, length, position, (error, n) => (error ? reject(error) : resolve(n)));
  });
}

/** Double buffering over bytes [start, end): the next read is in flight while this buffer is hashed. */
async function readRangeOverlapped(fd: number, sink: ChunkSink, buffers: ReadBuffers, start: number, end: number, onBytes: (n: number) => void): Promise<number> {
  let [full, spare] = buffers;
  const readAt = (buffer: Buffer, at: number): Promise<number> => (at < end ? readInto(fd, buffer, Math.min(buffer.length, end - at), at) : Promise.resolve(0));
  let position = start;
  let pending = readAt(full, position);
  for (;;) {
    const n = await pending;
    if (n === 0) return position - start;
    pending = readAt(spare, position + n);
    sink(n === full.length ? full : full.subarray(0, n));
    [full, spare] = [spare, full];
    position += n;
    onBytes(n);
  }
}

/** Double buffering: one read in flight at a time, so the file position stays sequential. */
async function readOverlapped(fd: number, sink: ChunkSink, buffers: ReadBuffers, onBytes: (n: number) => void): Promise<number> {
  let total = 0;
  let [full, spare] = buffers;
  let pending = readInto(fd, full);
  for (;;) {
    const n = await pending;
    if (n === 0) return total;
    pending = readInto(fd, spare);
    sink(n === full.length ? full : full.subarray(0, n));
    [full, spare] = [spare, full];
    total += n;
    onBytes(n);
  }
}

/** Where the kernel says the open file is: it must be the path we meant, or inside the root. */
function getContainmentProblem(fd: number, job: HashJob, absolute: string): HashFailure | undefined {
  if (!PROC_FD) return undefined;
  let actual: string;
  try {
    actual = readlinkSync(`${PROC_FD}${fd}`);
  } catch {
    return undefined;
  }
  if (job.followSymlinks) {
    // Inside the artifact's own folder (a regular file in an HF snapshot, where huggingface_hub
    // copies files on systems without links), or where its links may lead (the repo's blobs/).
    const inside = (root: string): boolean => actual === root || actual.startsWith(`${root}/`);
    if (inside(job.root) || (job.linkRoot !== undefined && inside(job.linkRoot))) return undefined;
    return { ok: false, code: 'SYMLINK_OUTSIDE_ROOT', message: `resolves outside the artifact root${job.linkRoot !== undefined && job.linkRoot !== job.root ? ` and ${job.linkRoot}` : ''}, to ${actual}` };
  }
  if (actual === absolute) return undefined;
  return { ok: false, code: 'SYMLINK_REFUSED', message: `a folder on its path is a symlink (resolves to ${actual}); pass --allow-symlinks to follow links inside the root` };
}

function toOpenFailure(error: unknown): HashFailure {
  const code = errnoCode(error);
  switch (code) {
    case 'ENOENT':
      return { ok: false, code: 'MISSING_FILE', message: 'no such file' };
    case 'ELOOP':
      return { ok: false, code: 'SYMLINK_REFUSED', message: 'is a symlink; pass --allow-symlinks to follow links inside the root' };
    case 'ENOTDIR':
      return { ok: false, code: 'NOT_A_FILE', message: 'a folder on its path is not a folder' };
    default:
      return { ok: false, code: 'UNREADABLE_FILE', message: `cannot open (${code ?? String(error)})` };
  }
}

function describeType(stats: BigIntStats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'something else';
}
