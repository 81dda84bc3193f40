import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { placeLink, renameInto, withFileLock, writeFileAtomic } from '../io/index.js';
import type { FileArtifact, HubSource } from '../lockfile/types.js';
import { ContentHasher } from './content-hash.js';
import { downloadFile, type Expected } from './download.js';
import type { Network } from './network.js';
import { ensureTreeCache } from './hf-tree-cache.js';
import { confineInCache, getHubCacheDir, getSnapshotFolder, toBlobLink, toCacheError, toCachedRepo, toCacheRoot, type CachedRepo } from './hf-cache.js';
import type { HttpResponse } from './http.js';
import { getFetchChunkSize, holdsLocked, toExpected, toPlaced, type ContentGate, type RestorePlan, type Task } from './restore.js';

/**
 * A Hub artifact into the Hugging Face cache: each file's blob is downloaded (or found) under a
 * lock on its digest, judged by the gate in the pass that hashes it, and only then linked from
 * snapshots/<commit>/; refs/<ref> is written once every file is in place. Every path written goes
 * through confineInCache: nothing in the cache is written through a link (CACHE_UNSAFE).
 */
export function planHub(name: string, artifact: FileArtifact, source: HubSource, env: NodeJS.ProcessEnv, network: Network, gate: ContentGate, onNote?: (message: string) => void): RestorePlan {
  const cached = toCachedRepo(getHubCacheDir(env), source.repoType, source.repo);
  const snapshot = getSnapshotFolder(cached, source.revision);
  const blobs = join(cached.repoFolder, 'blobs');
  const spec = { repoType: source.repoType, repo: source.repo, ref: source.ref };
  const tasks = artifact.files.map((file): Task => {
    const what = `${name}: ${file.path}`;
    const expected: Expected = toExpected(file);
    const chunkSize = getFetchChunkSize(file, env);
    const check = (already?: string) => gate(file.path, file.size, already);
    return {
      artifact: name,
      what,
      expected,
      ...(chunkSize === undefined ? {} : { chunkSize }),
      present: join(snapshot, ...file.path.split('/')),
      inside: blobs,
      check,
      fetch: async (onBytes) => {
        try {
          const dest = await confineInCache(cached, `blobs/${file.sha256}`);
          const lock = await confineInCache(cached, `${file.sha256}.aisc.lock`, { locks: true });
          return await withFileLock(lock, {}, async () => {
            // A blob another snapshot brought is judged before this one links to it.
            let placed = await holdsLocked(dest, expected, check(), chunkSize);
            if (!placed) {
              let last: HttpResponse | undefined;
              const got = await downloadFile({
                dest,
                partial: `${dest}.aisc.incomplete`,
                root: toCacheRoot(cached),
                expected,
                what,
                onBytes,
                check,
                onNote,
                request: async (from) => (last = await (await network.hub()).download(spec, source.revision, file.path, from)),
                ...(chunkSize === undefined ? {} : { chunkSize }),
              });
              placed = toPlaced(await nameBlob(cached, dest, file.sha256, file.size, last), got.size, got, chunkSize, got.inspection);
            }
            await linkSnapshot(cached, source.revision, file.path, placed.path);
            return placed;
          });
        } catch (error) {
          throw toCacheError(error, what);
        }
      },
    };
  });
  const finish = async (): Promise<void> => {
    // trees/<commit>.json: the commit's whole listing, as huggingface_hub 1.22+ keeps it.
    const hub = await network.hub();
    const list = hub.config.offline ? undefined : () => hub.listTree(spec, source.revision);
    await ensureTreeCache({ cached, commit: source.revision, snapshot, files: artifact.files, list, what: name, onNote }).catch((error: unknown) => {
      throw toCacheError(error, name);
    });
    // refs/<ref> → the locked commit, so `from_pretrained(repo, revision=ref)` finds it offline.
    if (source.ref === source.revision) return;
    try {
      const ref = await confineInCache(cached, `refs/${source.ref}`);
      await writeFileAtomic(ref, source.revision, { what: 'HF cache ref' });
    } catch (error) {
      throw toCacheError(error, `${name}: refs/${source.ref}`);
    }
  };
  return { where: snapshot, tasks, finish };
}

/**
 * huggingface_hub names an LFS blob by its SHA-256 (the X-Linked-Etag of the Hub's redirect) and
 * any other file by its git blob SHA-1 (the ETag). The bytes were checked against the lockfile's
 * SHA-256; the SHA-1 name is used only when it is the bytes' own.
 */
async function nameBlob(cached: CachedRepo, path: string, sha256: string, size: number, response: HttpResponse | undefined): Promise<string> {
  const linked = response?.redirectedFrom?.['x-linked-etag'] ?? response?.headers['x-linked-etag'];
  const etag = (response?.headers.etag ?? '').replace(/^W\//, '').replaceAll('"', '');
  if (linked !== undefined || !/^[0-9a-f]{40}$/.test(etag)) return path;
  const hasher = new ContentHasher(size, true);
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hasher.update(chunk);
  if (hasher.digest().gitOid !== etag) return path;
  const named = join(dirname(path), etag);
  await renameInto(path, named, toCacheRoot(cached));
  return named;
}

/** snapshots/<commit>/<path> → ../../blobs/<blob>, replaced atomically when it pointed elsewhere. */
async function linkSnapshot(cached: CachedRepo, commit: string, path: string, blob: string): Promise<void> {
  const link = await confineInCache(cached, `snapshots/${commit}/${path}`);
  await placeLink(toBlobLink(path, blob.slice(blob.lastIndexOf('/') + 1)), link, toCacheRoot(cached));
}
