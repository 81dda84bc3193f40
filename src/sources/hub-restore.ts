import { createReadStream } from 'node:fs';
import { rename, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { makeFolder, withFileLock, writeFileAtomic } from '../io/index.js';
import type { FileArtifact, HubSource } from '../lockfile/types.js';
import { ContentHasher } from './content-hash.js';
import { downloadFile, type Expected } from './download.js';
import type { Network } from './network.js';
import { getHubCacheDir, getRepoFolderName, getSnapshotFolder, toBlobLink, toCachedRepo } from './hf-cache.js';
import type { HttpResponse } from './http.js';
import { holdsLocked, type ContentGate, type RestorePlan, type Task } from './restore.js';

/**
 * A Hub artifact into the Hugging Face cache: each file's blob is downloaded (or found) under a
 * lock on its digest, judged by the gate in the pass that hashes it, and only then linked from
 * snapshots/<commit>/; refs/<ref> is written once every file is in place.
 */
export function planHub(name: string, artifact: FileArtifact, source: HubSource, env: NodeJS.ProcessEnv, network: Network, gate: ContentGate): RestorePlan {
  const cached = toCachedRepo(getHubCacheDir(env), source.repoType, source.repo);
  const snapshot = getSnapshotFolder(cached, source.revision);
  const blobs = join(cached.repoFolder, 'blobs');
  const spec = { repoType: source.repoType, repo: source.repo, ref: source.ref };
  const tasks = artifact.files.map((file): Task => {
    const what = `${name}: ${file.path}`;
    const expected: Expected = { size: file.size, sha256: file.sha256 };
    const check = (already?: string) => gate(file.path, file.size, already);
    return {
      artifact: name,
      what,
      expected,
      present: join(snapshot, ...file.path.split('/')),
      inside: blobs,
      check,
      fetch: async (onBytes) => {
        await makeFolder(blobs);
        const locks = join(cached.cacheDir, '.locks', getRepoFolderName(source.repoType, source.repo));
        await makeFolder(locks);
        await withFileLock(join(locks, `${file.sha256}.aisc.lock`), {}, async () => {
          let blob = join(blobs, file.sha256);
          // A blob another snapshot brought is judged before this one links to it.
          if (!(await holdsLocked(blob, expected, check()))) {
            let last: HttpResponse | undefined;
            await downloadFile({
              dest: blob,
              partial: join(blobs, `${file.sha256}.aisc.incomplete`),
              expected,
              what,
              onBytes,
              check,
              request: async (from) => (last = await (await network.hub()).download(spec, source.revision, file.path, from)),
            });
            blob = await nameBlob(blobs, file.sha256, file.size, last);
          }
          await linkSnapshot(snapshot, file.path, blob);
        });
      },
    };
  });
  const finish = async (): Promise<void> => {
    // refs/<ref> → the locked commit, so `from_pretrained(repo, revision=ref)` finds it offline.
    if (source.ref === source.revision) return;
    const ref = join(cached.repoFolder, 'refs', ...source.ref.split('/'));
    await makeFolder(dirname(ref));
    await writeFileAtomic(ref, source.revision, { what: 'HF cache ref' });
  };
  return { where: snapshot, tasks, finish };
}

/**
 * huggingface_hub names an LFS blob by its SHA-256 (the X-Linked-Etag of the Hub's redirect) and
 * any other file by its git blob SHA-1 (the ETag). The bytes were checked against the lockfile's
 * SHA-256; the SHA-1 name is used only when it is the bytes' own.
 */
async function nameBlob(blobs: string, sha256: string, size: number, response: HttpResponse | undefined): Promise<string> {
  const linked = response?.redirectedFrom?.['x-linked-etag'] ?? response?.headers['x-linked-etag'];
  const etag = (response?.headers.etag ?? '').replace(/^W\//, '').replaceAll('"', '');
  const path = join(blobs, sha256);
  if (linked !== undefined || !/^[0-9a-f]{40}$/.test(etag)) return path;
  const hasher = new ContentHasher(size, true);
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hasher.update(chunk);
  if (hasher.digest().gitOid !== etag) return path;
  const named = join(blobs, etag);
  await rename(path, named);
  return named;
}

/** snapshots/<commit>/<path> → ../../blobs/<blob>, replaced atomically when it pointed elsewhere. */
async function linkSnapshot(snapshot: string, path: string, blob: string): Promise<void> {
  const link = join(snapshot, ...path.split('/'));
  await makeFolder(dirname(link));
  const target = toBlobLink(path, blob.slice(blob.lastIndexOf('/') + 1));
  const temp = `${link}.aisc-link-${process.pid}`;
  await unlink(temp).catch(() => undefined);
  await symlink(target, temp);
  await rename(temp, link);
}
