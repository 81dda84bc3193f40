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
  /** Hash only bytes [start, end) (an OpenSSF Model Signing shard); the whole file otherwise. */
  range?: { start: number; end: number };
  /** Also tell what the file is from the chunks hashed (never from a second read): format, pickles, headers. */
  inspect?: boolean;
  /** Also return the identity of the file read (device, inode, size, times), for verify's cache. */
  identify?: boolean;
}

/** Which file, as it was when read: unchanged device, inode, size, mtime and ctime mean unchanged bytes. */
export interface FileIdentity {
  dev: string;
  ino: string;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
}

export type HashResult =
  | { ok: true; sha256: string; size: number; format?: ContentFormat; inspection?: Inspection; identity?: FileIdentity }
  | { ok: false; code: HashFailureCode; message: string; size?: number };

export interface HashTask {
  id: number;
  jobs: HashJob[];
  /** A core is idle: read ahead on libuv's pool while hashing (pays off only with a spare core). */
  overlap: boolean;
}

export interface HashTaskResult {
  id: number;
  results: HashResult[];
}
