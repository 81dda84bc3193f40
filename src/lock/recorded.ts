import { HashRecord } from '../hashing/hash-record.js';
import { statJobTarget } from '../hashing/stat-target.js';
import type { HashJob, HashResult } from '../hashing/types.js';
import { wantsChunks } from '../lockfile/chunks.js';
import type { FileArtifact } from '../lockfile/types.js';
import { toRecorded } from '../sources/index.js';

/**
 * The hash record fetch keeps (src/hashing/hash-record.ts), or undefined: none yet, or one that
 * is not this user's alone, which lock does not believe (it reads the files instead).
 */
export async function openHashRecord(env: NodeJS.ProcessEnv = process.env): Promise<HashRecord | undefined> {
  const record = await HashRecord.open(env, false);
  return record instanceof HashRecord ? record : undefined;
}

/**
 * What a lock would read of `job`'s file, from the record: the file is the one fetch hashed
 * (same device, inode, size, mtime and ctime), with the size locked and chunks of the size asked
 * for. Its SHA-256, chunk digests and inspection all come from the one pass that hashed it.
 */
export function getRecordedResult(record: HashRecord, job: HashJob, chunkSize: number): HashResult | undefined {
  const stats = statJobTarget(job);
  const hashed = stats ? record.lookup(stats) : undefined;
  if (!hashed || hashed.size !== job.expectedSize || hashed.chunks.size !== chunkSize) return undefined;
  const { sha256, size, chunks, format, inspection } = hashed;
  return { ok: true, sha256, size, chunks: chunks.sha256, ...(format ? { format } : {}), ...(inspection ? { inspection } : {}) };
}

/**
 * Chunk digests for the files whose SHA-256 the origin listed without a download (a Hub LFS oid,
 * an OCI layer digest): taken from the record when this machine holds the file where verify reads
 * it (the HF cache snapshot, the OCI folder), unchanged since fetch hashed it, and that pass's
 * SHA-256 is the one the origin lists. Nothing is read; a file without such a record stays as is.
 */
export function addRecordedChunks(record: HashRecord, name: string, artifact: FileArtifact, lockfile: string, env: NodeJS.ProcessEnv, chunkSize: number): void {
  if (artifact.layout !== 'directory') return;
  const copy = toRecorded(artifact.source).locate(name, artifact, lockfile, env);
  if (copy.mode !== 'files') return;
  for (const file of artifact.files) {
    if (file.chunks || !wantsChunks(file.size, chunkSize)) continue;
    const stats = statJobTarget({ root: copy.root, path: file.path, followSymlinks: copy.linkRoot !== undefined, ...(copy.linkRoot === undefined ? {} : { linkRoot: copy.linkRoot }) });
    const hashed = stats ? record.lookup(stats) : undefined;
    if (hashed && hashed.sha256 === file.sha256 && hashed.size === file.size && hashed.chunks.size === chunkSize) file.chunks = hashed.chunks;
  }
}
