import { createReadStream } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { AiscError, exitCodeFor, isAiscError } from '../errors.js';
import { dirname, join, resolve } from 'node:path';
import { confine, inPlace, withFileLock, type WriteRoot } from '../io/index.js';
import { getPathProblem } from '../lockfile/paths.js';
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

/** One file to bring: where it goes, what it must be, how to judge its bytes and how to get it. */
export interface Task {
  artifact: string;
  what: string;
  expected: Expected;
  /** Where it is read from when present (a snapshot path, or the kept file). */
  present: string;
  /** Not one of the artifact's files (a blob of an OCI image layout): not counted as a file. */
  extra?: boolean;
  /** Where present bytes may lie (the repo's blobs/); the file's own path otherwise. */
  inside?: string;
  /** The content gate for this file's bytes, fresh for each pass over them; `already`: where they were found in place. */
  check(already?: string): ContentCheck;
  fetch(onBytes: (n: number) => void): Promise<void>;
}

/**
 * The file is there (through links only into `inside`) and hashes to what is locked; the gate
 * reads the same bytes, and a refusal throws: what is already in place is named, not removed.
 */
export async function isPresent(task: Task): Promise<boolean> {
  let path = task.present;
  try {
    const stats = await lstat(task.present);
    if (stats.isSymbolicLink()) {
      // A snapshot link counts only when it leads into the repo's own blobs/.
      if (task.inside === undefined) return false;
      const [real, inside] = [await realpath(task.present), await realpath(task.inside)];
      if (!real.startsWith(`${inside}/`)) return false;
      path = real;
    } else if (!stats.isFile()) {
      return false;
    }
  } catch {
    return false;
  }
  return holdsLocked(path, task.expected, task.check(task.present));
}

/**
 * Whether `path` holds exactly the locked bytes, read once: hashed and, with a check, judged in
 * the same pass. False for anything unreadable or different; a refusal of the right bytes throws.
 */
export async function holdsLocked(path: string, expected: Expected, check?: ContentCheck): Promise<boolean> {
  try {
    const stats = await lstat(path);
    if (!stats.isFile() || stats.size !== expected.size) return false;
    const hasher = new ContentHasher(expected.size, false);
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      hasher.update(chunk);
      check?.feed(chunk);
    }
    if (hasher.digest().sha256 !== expected.sha256) return false;
  } catch {
    return false;
  }
  check?.verify();
  return true;
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
export function planKeptDownload(options: { name: string; url: string; lockfile: string; path: string; expected: Expected; judgedAs: string; network: Network; gate: ContentGate; onNote?: (message: string) => void }): RestorePlan {
  const { name, url, path, expected, network, onNote } = options;
  const root = toKeptRoot(name, path, options.lockfile);
  const dest = join(root.folder, ...path.split('/'));
  const check = (already?: string) => options.gate(options.judgedAs, expected.size, already);
  const what = `${name}: ${url}`;
  const task: Task = {
    artifact: name,
    what,
    expected,
    present: dest,
    check,
    fetch: async (onBytes) => {
      const confined = await confine(root, path).catch((error: unknown) => {
        throw inPlace(error, name);
      });
      await withFileLock(`${confined}.aisc.lock`, {}, async () => {
        if (await isPresent(task)) return;
        const request = async (from: number) => (await network.http()).send(url, { what, from });
        await downloadFile({ dest: confined, partial: `${confined}.aisc-download`, root, expected, what, onBytes, check, onNote, request }).catch((error: unknown) => {
          throw inPlace(error, what);
        });
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
