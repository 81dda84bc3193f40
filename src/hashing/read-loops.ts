import { read, readSync } from 'node:fs';

// The ways hashFile reads a file: each hands every buffer read to `sink` in file order and counts
// it in `onBytes`, and returns the bytes read.

/** Sequential reads stay small enough for the chunk to be hashed while still in the core's cache. */
const SEQUENTIAL_READ_BYTES = 1024 * 1024;

/** Two equal read buffers, reused for every file: memory stays constant whatever the size. */
export type ReadBuffers = readonly [Buffer, Buffer];

/**
 * How a file is read. `sync`: in one go on this thread (a worker). `overlap`: double-buffered on
 * libuv's threads while this one hashes (a spare core). `yield`: on this thread, a turn of the
 * event loop after each full buffer (the main thread, which also answers the workers; measured,
 * its page-cache copies cost less this way than on libuv's threads: see pool.ts).
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

/** Where each chunk read goes: the hash, and the content inspector when there is one. */
export type ChunkSink = (chunk: Buffer) => void;

export function readSequential(fd: number, sink: ChunkSink, buffer: Buffer, onBytes: (n: number) => void): number {
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

export function readRange(fd: number, sink: ChunkSink, buffer: Buffer, start: number, end: number, onBytes: (n: number) => void): number {
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

/** Bytes read between two turns of the event loop when reading on the main thread (~3 ms of hashing). */
const TURN_BYTES = 4 * 1024 * 1024;

/**
 * Reads on this thread, from `start` (null: the file's own position, to its end) to `end`, with a
 * turn of the event loop after every TURN_BYTES: the thread still answers the workers within a few
 * milliseconds (each has its next task queued), and the turns cost little. Measured on two 1 GiB
 * files: a turn after each 256 KiB took 3,870 epoll waits and ~40 ms more CPU than none. Small
 * files (one short read) give no turn.
 */
export async function readYielding(fd: number, sink: ChunkSink, buffer: Buffer, range: { start: number | null; end: number }, onBytes: (n: number) => void): Promise<number> {
  const chunk = buffer.length > SEQUENTIAL_READ_BYTES ? buffer.subarray(0, SEQUENTIAL_READ_BYTES) : buffer;
  let total = 0;
  let sinceTurn = 0;
  const start = range.start;
  while (start === null || start + total < range.end) {
    const want = start === null ? chunk.length : Math.min(chunk.length, range.end - start - total);
    const n = readSync(fd, chunk, 0, want, start === null ? null : start + total);
    if (n === 0) break;
    sink(n === chunk.length ? chunk : chunk.subarray(0, n));
    total += n;
    onBytes(n);
    sinceTurn += n;
    if (sinceTurn >= TURN_BYTES) {
      sinceTurn = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return total;
}

/** Reads in order into buffers the helper lends out once they are hashed here. */
export async function readLending(fd: number, sink: ChunkSink, helper: ChunkHelper, onBytes: (n: number) => void): Promise<number> {
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
export async function readRangeOverlapped(fd: number, sink: ChunkSink, buffers: ReadBuffers, start: number, end: number, onBytes: (n: number) => void): Promise<number> {
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
export async function readOverlapped(fd: number, sink: ChunkSink, buffers: ReadBuffers, onBytes: (n: number) => void): Promise<number> {
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
