import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { AiscError, isAiscError } from '../errors.js';
import { readBoundedText, writeFileAtomic } from '../io/index.js';
import { compareCodePoints } from '../lockfile/canonical-json.js';
import type { FileEntry } from '../lockfile/types.js';
import { ContentHasher } from './content-hash.js';
import { confineInCache, type CachedRepo } from './hf-cache.js';
import type { HubTreeEntry, ListedFile } from './listing.js';

export type { HubTreeEntry } from './listing.js';

/**
 * huggingface_hub's tree cache (1.22+, src/huggingface_hub/_tree_cache.py): the listing of every
 * file of a repo at a commit, kept as `<repo folder>/trees/<commit>.json` and trusted forever (a
 * commit never changes), so that snapshot_download lists nothing again and an offline load can
 * tell a snapshot is complete (it raises IncompleteSnapshotError when a listed file that its
 * allow/ignore patterns select is missing). The file is what json.dump(data, f, indent=1) writes:
 *
 *   {"format_version": 1, "files": {<path>: {"size", "blob_id", ["lfs_sha256", "lfs_size"], ["xet_hash"]}}}
 *
 * with paths sorted and non-ASCII escaped. It is the whole listing, whatever patterns a download
 * used: a partial snapshot is told by the patterns when it is read, never by a shorter listing.
 */
export const TREE_CACHE_FORMAT_VERSION = 1;
/** A listing of a million files is some 200 MB; a cache file beyond this is not read. */
const MAX_TREE_BYTES = 512 * 1024 * 1024;
const XET_HASH = /^[0-9a-fA-F]{64}$/;


/** `trees/<commit>.json` of a cached repo. */
export function getTreeCachePath(commit: string): string {
  return `trees/${commit}.json`;
}

/**
 * The cached listing, read as huggingface_hub reads it: undefined when there is none, when its
 * format_version is not 1, when it is not the shape above, or when an Xet hash is not one (then
 * huggingface_hub ignores it and lists the tree again).
 */
export async function readTreeCache(cached: CachedRepo, commit: string): Promise<Map<string, HubTreeEntry> | undefined> {
  let text: string;
  try {
    text = await readBoundedText(`${cached.repoFolder}/${getTreeCachePath(commit)}`, { limit: MAX_TREE_BYTES, what: 'tree cache' });
  } catch {
    return undefined;
  }
  try {
    return parseTreeCache(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function parseTreeCache(data: unknown): Map<string, HubTreeEntry> | undefined {
  const { format_version: version, files } = (data ?? {}) as { format_version?: unknown; files?: unknown };
  if (version !== TREE_CACHE_FORMAT_VERSION || typeof files !== 'object' || files === null || Array.isArray(files)) return undefined;
  const entries = new Map<string, HubTreeEntry>();
  for (const [path, info] of Object.entries(files)) {
    const { size, blob_id: blobId, lfs_sha256: lfsSha256, lfs_size: lfsSize, xet_hash: xetHash } = (info ?? {}) as Record<string, unknown>;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || typeof blobId !== 'string') return undefined;
    if (xetHash !== undefined && xetHash !== null && (typeof xetHash !== 'string' || !XET_HASH.test(xetHash))) return undefined;
    const entry: HubTreeEntry = { size, blobId };
    if (typeof lfsSha256 === 'string') entry.lfsSha256 = lfsSha256;
    if (typeof lfsSize === 'number') entry.lfsSize = lfsSize;
    if (typeof xetHash === 'string') entry.xetHash = xetHash;
    entries.set(path, entry);
  }
  return entries;
}

/**
 * The bytes huggingface_hub writes for a listing: json.dump(data, f, indent=1) with ensure_ascii,
 * keys in its order, paths sorted by code point, no newline at the end. Written by hand rather than
 * with JSON.stringify over an object, which would put a path like "1" before the others.
 */
export function toTreeCacheText(entries: ReadonlyMap<string, HubTreeEntry>): string {
  const paths = [...entries.keys()].sort(compareCodePoints);
  if (paths.length === 0) return `{\n "format_version": ${TREE_CACHE_FORMAT_VERSION},\n "files": {}\n}`;
  const files = paths.map((path) => {
    const entry = entries.get(path) as HubTreeEntry;
    const fields: [string, string | number | null][] = [['size', entry.size], ['blob_id', entry.blobId]];
    if (entry.lfsSha256 !== undefined) fields.push(['lfs_sha256', entry.lfsSha256], ['lfs_size', entry.lfsSize ?? null]);
    if (entry.xetHash !== undefined) fields.push(['xet_hash', entry.xetHash]);
    return `  ${toPythonJson(path)}: {\n${fields.map(([key, value]) => `   "${key}": ${toPythonJson(value)}`).join(',\n')}\n  }`;
  });
  return `{\n "format_version": ${TREE_CACHE_FORMAT_VERSION},\n "files": {\n${files.join(',\n')}\n }\n}`;
}

/** A JSON value as Python's json module writes it with ensure_ascii: DEL and every code unit past ASCII as \\uXXXX. */
function toPythonJson(value: string | number | null): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Writes the listing into the cache, confined and atomically (a reader sees the old file or the whole new one). */
export async function writeTreeCache(cached: CachedRepo, commit: string, entries: ReadonlyMap<string, HubTreeEntry>): Promise<void> {
  if ([...entries.values()].some((entry) => entry.xetHash !== undefined && !XET_HASH.test(entry.xetHash))) {
    throw new AiscError('HUB_RESPONSE_INVALID', `${cached.repo}@${commit}: the Hub's listing holds an Xet hash that is not one; huggingface_hub would not cache it either`);
  }
  const path = await confineInCache(cached, getTreeCachePath(commit));
  await writeFileAtomic(path, toTreeCacheText(entries), { what: 'Hugging Face tree cache' });
}

export interface TreeCacheJob {
  cached: CachedRepo;
  commit: string;
  /** The snapshot folder the locked files were just put in (or found) in. */
  snapshot: string;
  files: readonly FileEntry[];
  /** Lists the whole tree at the commit; undefined when offline (then nothing is written). */
  list?: () => Promise<ListedFile[]>;
  what: string;
  onNote?: (message: string) => void;
}

/**
 * Once every locked file is in place: leaves trees/<commit>.json as it is when it agrees with the
 * lockfile and the bytes placed, and otherwise writes the Hub's whole listing of the commit there,
 * as huggingface_hub would, after holding it against the lockfile (every locked path listed, with
 * its size, its LFS SHA-256 or the git blob SHA-1 of the bytes in the snapshot). A listing that
 * disagrees is HUB_RESPONSE_INVALID; a Hub that cannot be reached only leaves the file unwritten.
 */
export async function ensureTreeCache(job: TreeCacheJob): Promise<void> {
  const cachedTree = await readTreeCache(job.cached, job.commit);
  if (cachedTree && (await getDisagreement(cachedTree, job)) === undefined) return;
  if (!job.list) return;
  let listed: ListedFile[];
  try {
    listed = await job.list();
  } catch (error) {
    if (!isAiscError(error) || error.code !== 'HTTP_FAILED') throw error;
    job.onNote?.(`${job.what}: ${getTreeCachePath(job.commit)} was not written, the Hub's listing could not be read (${error.message})`);
    return;
  }
  const entries = new Map<string, HubTreeEntry>();
  for (const file of listed) {
    if (!file.hub) throw new AiscError('HUB_RESPONSE_INVALID', `${job.what}: the Hub's listing of ${job.commit} gives ${JSON.stringify(file.path)} no git blob oid; ${getTreeCachePath(job.commit)} was not written`);
    entries.set(file.path, file.hub);
  }
  const problem = await getDisagreement(entries, job);
  if (problem) throw new AiscError('HUB_RESPONSE_INVALID', `${job.what}: the Hub's listing of ${job.commit} disagrees with the lockfile: ${problem}; ${getTreeCachePath(job.commit)} was not written`);
  await writeTreeCache(job.cached, job.commit, entries);
}

/** Why the listing does not describe the locked files as placed, or undefined when it does. */
async function getDisagreement(entries: ReadonlyMap<string, HubTreeEntry>, job: TreeCacheJob): Promise<string | undefined> {
  for (const file of job.files) {
    const entry = entries.get(file.path);
    if (!entry) return `${JSON.stringify(file.path)} is not in it`;
    if (entry.size !== file.size) return `${JSON.stringify(file.path)} has ${entry.size} bytes in it, ${file.size} locked`;
    if (entry.lfsSha256 !== undefined) {
      if (entry.lfsSha256 !== file.sha256) return `${JSON.stringify(file.path)} has the LFS SHA-256 ${entry.lfsSha256} in it, ${file.sha256} locked`;
      continue;
    }
    // Outside LFS the listing names the bytes by their git blob SHA-1: that of the bytes placed.
    const oid = await getGitBlobOid(join(job.snapshot, ...file.path.split('/')), file.size);
    if (oid !== entry.blobId) return `${JSON.stringify(file.path)} has the git blob ${entry.blobId} in it, the bytes locked are ${oid ?? 'unreadable'}`;
  }
  return undefined;
}

async function getGitBlobOid(path: string, size: number): Promise<string | undefined> {
  const hasher = new ContentHasher(size, true);
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) if (!hasher.update(chunk)) return undefined;
  } catch {
    return undefined;
  }
  return hasher.size === size ? hasher.digest().gitOid : undefined;
}
