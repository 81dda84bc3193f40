import { createReadStream } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { AiscError, exitCodeFor, isAiscError } from '../errors.js';
import { dirname, join, resolve } from 'node:path';
import { confine, inPlace, withFileLock, type WriteRoot } from '../io/index.js';
import type { Inspection } from '../formats/inspection.js';
import { getChunkSize, wantsChunks } from '../lockfile/chunks.js';
import { getPathProblem } from '../lockfile/paths.js';
import type { FileChunks, FileEntry } from '../lockfile/types.js';
import { ContentHasher } from './content-hash.js';
import { downloadFile, type ContentCheck, type Expected } from './download.js';
import type { Network } from './network.js';

/**
 * The content gate of one artifact: a fresh check of one file's bytes, named by its path in the
 * artifact; `already` says where bytes found in place are (they are named, never removed).
 */
export type ContentGate = (path: string, size: number, already?: string) => ContentCheck;

/** One artifact's files to bring, where they land, and what is written once all are in place. */
export interface RestorePlan {
  where: string;
  tasks: Task[];
  finish?: () => Promise<void>;
}

/**
 * What a task hashed of the file it placed or found in place, all in the pass that checked it
 * (its SHA-256, its chunk digests, what the gate found it to be): fetch keeps it in the hash
 * record, so a later lock of the same file, unchanged, need not read it again.
 */
export interface Placed {
  /** Where the bytes now lie (a blob of the HF cache, a kept file, a file of an OCI folder). */
  path: string;
  sha256: string;
  size: number;
  /** For a file of at least two chunks. */
  chunks?: FileChunks;
  inspection?: Inspection;
}

/** One file to bring: where it goes, what it must be, how to judge its bytes and how to get it. */
export interface Task {
  artifact: string;
  what: string;
  expected: Expected;
  /** Chunk digests of this size are computed in the same pass (the file's locked ones are checked). */
  chunkSize?: number;
  /** Where it is read from when present (a snapshot path, or the kept file). */
  present: string;
  /** Not one of the artifact's files (a blob of an OCI image layout): not counted as a file. */
  extra?: boolean;
  /** Where present bytes may lie (the repo's blobs/); the file's own path otherwise. */
  inside?: string;
  /** The content gate for this file's bytes, fresh for each pass over them; `already`: where they were found in place. */
  check(already?: string): ContentCheck;
  /** Brings the file; what it hashed of the bytes, where the task can say. */
  fetch(onBytes: (n: number) => void): Promise<Placed | void>;
}

/**
 * The chunk size fetch hashes a locked file's bytes by: its locked chunks', else aisc's own for a
 * file of at least two chunks (for the hash record), else none.
 */
export function getFetchChunkSize(file: FileEntry, env: NodeJS.ProcessEnv): number | undefined {
  if (file.chunks) return file.chunks.size;
  const size = getChunkSize(env);
  return wantsChunks(file.size, size) ? size : undefined;
}

/** What fetch expects of a locked file's bytes: its size and digest, and its chunk digests when locked. */
export function toExpected(file: FileEntry): Expected {
  return { size: file.size, sha256: file.sha256, ...(file.chunks ? { chunks: file.chunks } : {}) };
}

/**
 * The file is there (through links only into `inside`) and hashes to what is locked; the gate
 * reads the same bytes, and a refusal throws: what is already in place is named, not removed.
 */
export async function isPresent(task: Task): Promise<Placed | undefined> {
  let path = task.present;
  try {
    const stats = await lstat(task.present);
    if (stats.isSymbolicLink()) {
      // A snapshot link counts only when it leads into the repo's own blobs/.
      if (task.inside === undefined) return undefined;
      const [real, inside] = [await realpath(task.present), await realpath(task.inside)];
      if (!real.startsWith(`${inside}/`)) return undefined;
      path = real;
    } else if (!stats.isFile()) {
      return undefined;
    }
  } catch {
    return undefined;
  }
  return holdsLocked(path, task.expected, task.check(task.present), task.chunkSize);
}

/**
 * Whether `path` holds exactly the locked bytes, read once: hashed (by chunks too, with a chunk
 * size) and, with a check, judged in the same pass. Undefined for anything unreadable or
 * different (chunks that are not the locked ones too); a refusal of the right bytes throws.
 */
export async function holdsLocked(path: string, expected: Expected, check?: ContentCheck, chunkSize?: number): Promise<Placed | undefined> {
  let digest: ReturnType<ContentHasher['digest']>;
  try {
    const stats = await lstat(path);
    if (!stats.isFile() || stats.size !== expected.size) return undefined;
    const hasher = new ContentHasher(expected.size, false, chunkSize);
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      hasher.update(chunk);
      check?.feed(chunk);
    }
    digest = hasher.digest();
    if (digest.sha256 !== expected.sha256) return undefined;
    const locked = expected.chunks;
    if (locked && locked.size === chunkSize && digest.chunks?.some((value, k) => value !== locked.sha256[k])) return undefined;
  } catch {
    return undefined;
  }
  const inspection = check?.verify();
  return toPlaced(path, expected.size, digest, chunkSize, inspection ?? undefined);
}

/** What a pass over a file's bytes found, as the hash record keeps it: chunks only for a file of at least two. */
export function toPlaced(path: string, size: number, digest: { sha256: string; chunks?: string[] }, chunkSize: number | undefined, inspection: Inspection | undefined): Placed {
  const chunks = chunkSize !== undefined && digest.chunks && wantsChunks(size, chunkSize) ? { chunks: { size: chunkSize, sha256: digest.chunks } } : {};
  return { path, sha256: digest.sha256, size, ...chunks, ...(inspection ? { inspection } : {}) };
}

/** Runs every task with at most `limit` at once; every task runs, failures are collected. */
export async function runBounded<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<AiscError<string>[]> {
  const failures: AiscError<string>[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await run(item);
      } catch (error) {
        if (!isAiscError(error)) throw error;
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return failures;
}

/**
 * Every failure in one error, findings (exit 1: a refusal, bytes that differ) before trouble
 * (exit 2: the network), one line each: the first's code leads, another code follows its line.
 */
export function toFetchError(failures: readonly AiscError<string>[]): AiscError<string> {
  // Tasks that share a step (an OCI manifest fetched once for all its files) fail with one error: said once.
  const unique = [...new Map(failures.map((f) => [`${f.code} ${f.message}`, f])).values()];
  const sorted = unique.sort((a, b) => exitCodeFor(a.code) - exitCodeFor(b.code));
  const [first, ...rest] = sorted;
  if (!first) return new AiscError('INTERNAL', 'no failure to report');
  return new AiscError(first.code, first.message, { problems: rest.map((f) => (f.code === first.code ? f.message : `${f.message} [${f.code}]`)) });
}

/**
 * A download kept at `path` under the lockfile's folder (an https file, or an archive whose members
 * are the artifact): one task, the bytes hashed and judged while they stream into a partial beside
 * it, renamed into place on a match, under a lock on it. A lockfile from a pull request names the
 * path, so fetch writes only under the lockfile's folder and never through a link there.
 */
export function planKeptDownload(options: { name: string; url: string; lockfile: string; path: string; expected: Expected; chunkSize?: number; judgedAs: string; network: Network; gate: ContentGate; onNote?: (message: string) => void }): RestorePlan {
  const { name, url, path, expected, network, onNote, chunkSize } = options;
  const root = toKeptRoot(name, path, options.lockfile);
  const dest = join(root.folder, ...path.split('/'));
  const check = (already?: string) => options.gate(options.judgedAs, expected.size, already);
  const what = `${name}: ${url}`;
  const task: Task = {
    artifact: name,
    what,
    expected,
    present: dest,
    ...(chunkSize === undefined ? {} : { chunkSize }),
    check,
    fetch: async (onBytes) => {
      const confined = await confine(root, path).catch((error: unknown) => {
        throw inPlace(error, name);
      });
      return withFileLock(`${confined}.aisc.lock`, {}, async () => {
        const present = await isPresent(task);
        if (present) return present;
        const request = async (from: number) => (await network.http()).send(url, { what, from });
        const got = await downloadFile({ dest: confined, partial: `${confined}.aisc-download`, root, expected, what, onBytes, check, onNote, request, ...(chunkSize === undefined ? {} : { chunkSize }) }).catch((error: unknown) => {
          throw inPlace(error, what);
        });
        return toPlaced(confined, got.size, got, chunkSize, got.inspection);
      });
    },
  };
  return { where: dest, tasks: [task] };
}

/**
 * The lockfile's folder as the root a recorded `source.path` is written under. A lockfile from a
 * pull request names that path, so one that climbs out or is absolute is refused before any request.
 */
export function toKeptRoot(name: string, path: string, lockfile: string): WriteRoot {
  const problem = getPathProblem(path);
  if (problem) throw new AiscError('PATH_INVALID', `${name}: source.path ${JSON.stringify(path)}: aisc fetch writes a kept file only under the lockfile's folder, and this path ${problem}`);
  return toLockfileRoot(lockfile);
}

/** The lockfile's folder as the place a kept file is written: nothing below it through a link. */
export function toLockfileRoot(lockfile: string): WriteRoot {
  return { folder: dirname(resolve(lockfile)), what: "the lockfile's folder", hint: 'remove the link, or keep the file elsewhere and lock it from there' };
}
