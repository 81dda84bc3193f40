import { createHash } from 'node:crypto';
import { AiscError } from '../errors.js';
import type { FileChunks } from './types.js';

const MiB = 1024 * 1024;
/** Smallest chunk a lockfile may pin: a 1 TB file is then at most a million digests (64 MB of lockfile). */
export const MIN_CHUNK_BYTES = MiB;
/** Largest: beyond 4 GiB a chunk parallelizes nothing a whole file would not. */
export const MAX_CHUNK_BYTES = 4096 * MiB;
/**
 * The chunk size aisc records unless AISC_CHUNK_BYTES says otherwise (bench/chunks.js): a 2-core
 * verify of a 2 GiB file took 0.995 s with 16, 64 or 256 MiB chunks (1.028 s with 4 MiB, 1.473 s
 * whole). The largest of those that still spreads a 5 GB shard over a 16-core host (about five
 * chunks a core; 256 MiB gives one), at about 85 bytes of lockfile a chunk: 180 KB for 140 GB.
 */
export const DEFAULT_CHUNK_BYTES = 64 * MiB;
/** A file gets chunk digests from this many whole chunks on: a smaller one is verified whole, as fast. */
export const MIN_CHUNKED_CHUNKS = 2;

/** Whether `size` is a chunk size a lockfile may record: a power of two from 1 MiB to 4 GiB. */
export function isChunkSize(size: number): boolean {
  return Number.isSafeInteger(size) && size >= MIN_CHUNK_BYTES && size <= MAX_CHUNK_BYTES && (size & (size - 1)) === 0;
}

/** How many chunks of `chunkSize` cover `size` bytes (the last may be short). */
export function getChunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** Whether a file of `size` bytes gets chunk digests when locked with `chunkSize`. */
export function wantsChunks(size: number, chunkSize: number): boolean {
  return size >= MIN_CHUNKED_CHUNKS * chunkSize;
}

/** Bytes [start, end) of chunk `index`. */
export function getChunkRange(index: number, chunkSize: number, size: number): { start: number; end: number } {
  const start = index * chunkSize;
  return { start, end: Math.min(size, start + chunkSize) };
}

/** `bytes 1073741824–1140850687` (inclusive, as a reader counts them). */
export function describeByteRange(start: number, end: number): string {
  return `bytes ${start}–${end - 1}`;
}

/**
 * Why a file's chunk list cannot be the one of its bytes, or undefined: the chunk size is out of
 * bounds, or the digests do not cover the file exactly (one for each chunk, at least two).
 */
export function getChunksProblem(size: number, chunks: FileChunks): string | undefined {
  if (!isChunkSize(chunks.size)) return `expected a chunk size that is a power of two from ${MIN_CHUNK_BYTES} to ${MAX_CHUNK_BYTES} bytes, got ${chunks.size}`;
  const count = getChunkCount(size, chunks.size);
  if (chunks.sha256.length !== count || count < 2) {
    return `expected ${count < 2 ? 'no chunk list for a file of at most one chunk' : `${count} digests of ${chunks.size}-byte chunks to cover ${size} bytes`}, got ${chunks.sha256.length}`;
  }
  return undefined;
}

/**
 * One SHA-256 for a chunk list (its size, then each raw digest in order): what `aisc diff` shows
 * and an approval signs, so a chunk list that changes under an unchanged file digest is a change.
 */
export function getChunkListDigest(chunks: FileChunks): string {
  const hash = createHash('sha256').update(`aisc-chunks ${chunks.size}\n`);
  for (const digest of chunks.sha256) hash.update(digest, 'hex');
  return hash.digest('hex');
}

export const CHUNK_BYTES_VARIABLE = 'AISC_CHUNK_BYTES';

/** The chunk size lock and fetch use: AISC_CHUNK_BYTES (a power of two, 1 MiB to 4 GiB), else the default. */
export function getChunkSize(env: NodeJS.ProcessEnv = process.env): number {
  const value = env[CHUNK_BYTES_VARIABLE];
  if (value === undefined || value === '') return DEFAULT_CHUNK_BYTES;
  const size = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!isChunkSize(size)) throw new AiscError('USAGE', `${CHUNK_BYTES_VARIABLE}: expected a power of two from ${MIN_CHUNK_BYTES} to ${MAX_CHUNK_BYTES} (bytes), got ${JSON.stringify(value)}`);
  return size;
}
