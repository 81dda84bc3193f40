import type { HashFailureCode } from '../findings.js';
import type { ContentFormat, Inspection } from '../formats/inspection.js';

/** One file for a hashing worker. */
export interface HashJob {
  /** The file, relative to `root` ('/'-separated): a million jobs share their root string. */
  path: string;
  /** The artifact root's real path: the file opened is root/path and must resolve inside it. */
  root: string;
  /** When given, a file of another size is reported as SIZE_MISMATCH without being hashed. */
  expectedSize?: number;
  /** Open through symlinks (never outside `root`, or `linkRoot`); otherwise a symlink anywhere is refused. */
  followSymlinks: boolean;
  /** Where followed links may lead instead of `root` (an HF cache snapshot's links into its repo's blobs/). */
  linkRoot?: string;
  /**
   * Hash only bytes [start, end): an OpenSSF Model Signing shard, or (with `chunks`) the chunks a
   * thread reads of a file the pool spread over its threads. The whole file otherwise.
   */
  range?: { start: number; end: number };
  /**
   * Also the SHA-256 of each `size`-byte chunk of the file (lockfile.md, "Chunk digests"). With
   * `whole`, beside the whole-file digest in its one pass (lock); without, instead of it (verify).
   */
  chunks?: {
    size: number;
    whole: boolean;
    /**
     * Each chunk on whichever thread is free (verify, for files whose inspection needs only their
     * start): the pool splits the job into chunk-aligned ranges and joins their results.
     */
    spread?: boolean;
  };
  /** Also tell what the file is from the chunks hashed (never from a second read): format, pickles, headers. */
  inspect?: boolean;
  /** Also return the identity of the file read (device, inode, size, times), for verify's cache. */
  identify?: boolean;
}

/** A job whose result has the whole-file digest: it asks for no chunks, or for them beside it. */
export type WholeFileJob = HashJob & { chunks?: { whole: true } };

/** Which file, as it was when read: unchanged device, inode, size, mtime and ctime mean unchanged bytes. */
export interface FileIdentity {
  dev: string;
  ino: string;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
}

export type HashFailure = { ok: false; code: HashFailureCode; message: string; size?: number };

export type HashResult =
  | { ok: true; sha256: string; size: number; chunks?: string[]; format?: ContentFormat; inspection?: Inspection; identity?: FileIdentity }
  | HashFailure;

/**
 * What a job that asked for chunk digests alone gets (`chunks.whole` false): no whole-file digest,
 * which is the point (verify compares the chunks, read on every thread at once). `size` is the
 * file's; for one range of a spread file, `chunks` are those of the range.
 */
export type ChunkedHashResult = { ok: true; chunks: string[]; size: number; format?: ContentFormat; inspection?: Inspection; identity?: FileIdentity };

export type AnyHashResult = HashResult | ChunkedHashResult;

export interface HashTask {
  id: number;
  jobs: HashJob[];
  /** A core is idle: read ahead on libuv's pool while hashing (pays off only with a spare core). */
  overlap: boolean;
  /**
   * The main thread is idle: it hashes the chunk digests of this task's one file (lock) from the
   * buffers the worker read and hashed whole, lent to it (transferred, never copied) and returned.
   */
  helped?: boolean;
}

/** Worker to main thread: bytes [0, length) of a buffer lent for a helped task's chunk digests. */
export interface LentBuffer {
  id: number;
  lent: ArrayBuffer;
  length: number;
}

/** Main thread to worker: a lent buffer given back. */
export interface ReturnedBuffer {
  returned: ArrayBuffer;
}

export interface HashTaskResult {
  id: number;
  results: AnyHashResult[];
}
