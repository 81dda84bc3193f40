import { AiscError } from '../errors.js';
import { ContentInspector, toHeaderInspection, type Inspection } from '../formats/index.js';
import { readSafetensorsHeader } from '../formats/safetensors-capture.js';
import { wantsChunks } from '../lockfile/chunks.js';
import type { FileEntry } from '../lockfile/types.js';
import { ContentHasher } from '../sources/content-hash.js';
import type { ListedFile, ResolvedSource } from '../sources/index.js';

/** Downloads at once while locking a remote source. */
const CONCURRENCY = 8;

export interface RemoteHashed {
  files: FileEntry[];
  inspections: Map<number, Inspection>;
}

/**
 * The digests a remote listing does not know: each such file is downloaded and hashed as it
 * streams (never kept), its length and the origin's git blob SHA-1 checked; a file whose bytes
 * differ from the listing is CONTENT_MISMATCH (exit 1). Files whose SHA-256 the origin lists
 * (Hub LFS) are not downloaded, so not inspected, and are recorded `inspected: false`: of a
 * safetensors one only the header is read, with Range requests (fetch inspects every byte as it
 * lands, verify as it hashes the fetched copy).
 */
export async function hashRemoteFiles(spec: string, resolved: ResolvedSource, listed: readonly ListedFile[], onBytes: (n: number) => void, chunkSize: number): Promise<RemoteHashed> {
  const files = new Array<FileEntry>(listed.length);
  const inspections = new Map<number, Inspection>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < listed.length) {
      const index = next++;
      const file = listed[index] as ListedFile;
      if (file.sha256 !== undefined) {
        if (file.inspection) {
          files[index] = { path: file.path, size: file.size, sha256: file.sha256, ...(file.chunks ? { chunks: file.chunks } : {}) };
          inspections.set(index, file.inspection);
          continue;
        }
        // Recorded, so that lock's output, the lockfile and a reviewer say whose content was not judged here.
        files[index] = { path: file.path, size: file.size, sha256: file.sha256, inspected: false };
        if (file.path.toLowerCase().endsWith('.safetensors') && resolved.readRange) inspections.set(index, toHeaderInspection(await readHeader(resolved, file), file.size));
        continue;
      }
      const hashed = await hashOne(spec, resolved, file, onBytes, wantsChunks(file.size, chunkSize) ? chunkSize : undefined);
      files[index] = { path: file.path, size: file.size, sha256: hashed.sha256, ...(hashed.chunks ? { chunks: { size: chunkSize, sha256: hashed.chunks } } : {}) };
      inspections.set(index, hashed.inspection);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, listed.length) }, worker));
  return { files, inspections };
}

async function hashOne(spec: string, resolved: ResolvedSource, file: ListedFile, onBytes: (n: number) => void, chunkSize: number | undefined): Promise<{ sha256: string; chunks?: string[]; inspection: Inspection }> {
  if (!resolved.open) throw new AiscError('INTERNAL', `${spec}: ${file.path} has no digest and cannot be read`);
  const body = await resolved.open(file);
  const hasher = new ContentHasher(file.size, file.gitOid !== undefined, chunkSize);
  const inspector = new ContentInspector(file.size, file.path);
  for await (const chunk of body) {
    if (!hasher.update(chunk)) throw mismatch(spec, file, `more than the ${file.size} bytes listed`);
    inspector.feed(chunk);
    onBytes(chunk.length);
  }
  if (hasher.size !== file.size) throw mismatch(spec, file, `${hasher.size} bytes, ${file.size} listed`);
  const digest = hasher.digest();
  if (file.gitOid !== undefined && digest.gitOid !== file.gitOid) throw mismatch(spec, file, `git blob ${digest.gitOid ?? '?'}, listed ${file.gitOid}`);
  return { sha256: digest.sha256, ...(digest.chunks ? { chunks: digest.chunks } : {}), inspection: inspector.end() };
}

function mismatch(spec: string, file: ListedFile, detail: string): AiscError {
  return new AiscError('CONTENT_MISMATCH', `${spec}: ${file.path}: the bytes served are not what the listing says (${detail}); nothing was locked`);
}

/** A safetensors header without the weights: two Range requests. */
function readHeader(resolved: ResolvedSource, file: ListedFile): ReturnType<typeof readSafetensorsHeader> {
  return readSafetensorsHeader(file.size, (start, end) => {
    if (!resolved.readRange) throw new AiscError('INTERNAL', `${file.path}: its header cannot be read from this source`);
    return resolved.readRange(file, start, end);
  });
}

/**
 * A small listed file's bytes (a publisher's signature bundle), kept: at most `limit` of them, and
 * only when they are what the listing says (length, SHA-256 or git blob SHA-1).
 */
export async function readListedFile(spec: string, resolved: ResolvedSource, file: ListedFile, limit: number): Promise<Buffer> {
  if (file.size > limit) throw new AiscError('FILE_TOO_LARGE', `${spec}: ${file.path}: expected at most ${limit} bytes, listed at ${file.size}`);
  if (!resolved.open) throw new AiscError('INTERNAL', `${spec}: ${file.path} cannot be read from this source`);
  const body = await resolved.open(file);
  const hasher = new ContentHasher(file.size, file.gitOid !== undefined);
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    if (!hasher.update(chunk)) throw mismatch(spec, file, `more than the ${file.size} bytes listed`);
    chunks.push(chunk);
  }
  if (hasher.size !== file.size) throw mismatch(spec, file, `${hasher.size} bytes, ${file.size} listed`);
  const digest = hasher.digest();
  if (file.gitOid !== undefined && digest.gitOid !== file.gitOid) throw mismatch(spec, file, `git blob ${digest.gitOid ?? '?'}, listed ${file.gitOid}`);
  if (file.sha256 !== undefined && digest.sha256 !== file.sha256) throw mismatch(spec, file, `sha256 ${digest.sha256}, listed ${file.sha256}`);
  return Buffer.concat(chunks);
}
