import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../errors.js';
import { ContentInspector } from '../formats/inspect.js';
import { ChunkDigests } from './chunk-digests.js';
import { readLending, readOverlapped, readRange, readRangeOverlapped, readSequential, readYielding, type ChunkHelper, type ChunkSink, type ReadBuffers, type ReadMode } from './read-loops.js';
import type { AnyHashResult, FileIdentity, HashFailure, HashJob, HashResult, WholeFileJob } from './types.js';

const PROC_FD = process.platform === 'linux' ? '/proc/self/fd/' : undefined;
// O_NONBLOCK: a FIFO planted where a file was must not hang the open.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

export type { ChunkHelper, ReadBuffers, ReadMode } from './read-loops.js';

/** From this size on, and with a core to spare, the next chunk is read while this one is hashed. */
export const OVERLAP_MIN_BYTES = 16 * 1024 * 1024;

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
    const moved = describeChange(before, after, total, expected);
    if (moved) return { ok: false, code: 'FILE_CHANGED', message: `changed while it was read: ${moved}`, size: total };
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

/** What moved between a file's open and close (its size, its times, or the bytes there were to read), or undefined. */
function describeChange(before: BigIntStats, after: BigIntStats, total: number, expected: number): string | undefined {
  const moved = [
    after.size !== before.size ? `its size (${before.size} bytes at open, ${after.size} at close)` : '',
    after.mtimeNs !== before.mtimeNs ? 'its modification time' : '',
    after.ctimeNs !== before.ctimeNs ? 'its change time (ctime)' : '',
    total !== expected ? `the bytes there were to read (${total} of ${expected})` : '',
  ].filter(Boolean);
  return moved.length > 0 ? moved.join(', ') : undefined;
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
