import { createReadStream } from 'node:fs';
import { lstat, realpath, rename, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AiscError, isAiscError } from '../errors.js';
import { makeFolder, withFileLock, writeFileAtomic } from '../io/index.js';
import { decodeLockfile, parseLockfile, readLockfileBytes, toManifestReader } from '../lockfile/index.js';
import type { FileArtifact, HubSource } from '../lockfile/types.js';
import { ContentHasher } from '../sources/content-hash.js';
import { downloadFile, type Expected } from '../sources/download.js';
import { Network } from '../sources/factory.js';
import { getHubCacheDir, getRepoFolderName, getSnapshotFolder, toBlobLink, toCachedRepo } from '../sources/hf-cache.js';
import type { HttpResponse } from '../sources/http.js';
import { fromLockfileFolder } from '../sources/index.js';

export interface FetchOptions {
  lockfile: string;
  /** Downloads at once (default 8). */
  jobs?: number;
  env?: NodeJS.ProcessEnv;
  onWait?: (message: string) => void;
  /** Told the bytes to download once they are known; `done` counts them as they come. */
  onDownloading?: (progress: { bytesDone(): number }, totalBytes: number) => void;
}

export interface FetchedArtifact {
  name: string;
  /** Where it is now: a snapshot folder of the HF cache, or the kept file. */
  where: string;
  files: number;
  downloaded: number;
  present: number;
  bytes: number;
}

/** One file to bring: where it goes, what it must be, and how to get it. */
interface Task {
  artifact: string;
  what: string;
  expected: Expected;
  /** Where it is read from when present (a snapshot path, or the kept file). */
  present: string;
  /** Where present bytes may lie (the repo's blobs/); the file's own path otherwise. */
  inside?: string;
  fetch(onBytes: (n: number) => void): Promise<void>;
}

/**
 * Downloads exactly what the lockfile pins, nothing else: Hub files into the Hugging Face cache
 * layout (blobs/ by SHA-256 or git blob SHA-1, snapshots/<commit>/ as relative links, refs/), URLs
 * and archives to their kept path. Each file is hashed while it streams into a partial file and
 * renamed into place only when its digest is the locked one; a partial download resumes with
 * Range; present and correct files are not downloaded again; each blob is locked while written.
 */
export async function fetchArtifacts(names: readonly string[], options: FetchOptions): Promise<FetchedArtifact[]> {
  const bytes = await readLockfileBytes(options.lockfile);
  const lockfile = await parseLockfile(decodeLockfile(bytes, options.lockfile), options.lockfile, toManifestReader(options.lockfile));
  const chosen: [string, FileArtifact][] = [];
  // A name given twice is fetched once.
  for (const name of new Set(names)) {
    const artifact = lockfile.artifacts.get(name);
    if (!artifact) throw new AiscError('UNKNOWN_ARTIFACT', `${name}: not in ${options.lockfile}`);
    if (artifact.kind === 'npm' || !isFetchable(artifact)) throw new AiscError('USAGE', `${name}: ${artifact.kind === 'npm' ? 'an npm package (npm ci installs it)' : 'not locked from a URL or the Hub (or locked without --path)'}; nothing to fetch`);
    chosen.push([name, artifact]);
  }
  if (names.length === 0) {
    for (const [name, artifact] of lockfile.artifacts) if (artifact.kind !== 'npm' && isFetchable(artifact)) chosen.push([name, artifact]);
  }
  const env = options.env ?? process.env;
  const network = new Network(env);
  try {
    const plans = chosen.map(([name, artifact]) => planArtifact(name, artifact, options.lockfile, env, network));
    // What is there and right is not downloaded again.
    const todo: Task[] = [];
    const presentCount = new Map<string, number>();
    for (const plan of plans) {
      for (const task of plan.tasks) {
        if (await isPresent(task)) presentCount.set(task.artifact, (presentCount.get(task.artifact) ?? 0) + 1);
        else todo.push(task);
      }
    }
    let done = 0;
    options.onDownloading?.({ bytesDone: () => done }, todo.reduce((sum, task) => sum + task.expected.size, 0));
    const failures = await runBounded(todo, options.jobs ?? 8, (task) => task.fetch((n) => (done += n)));
    if (failures.length > 0) {
      // A digest mismatch (exit 1) is reported before network trouble (exit 2).
      failures.sort((a, b) => Number(b.code === 'CONTENT_MISMATCH') - Number(a.code === 'CONTENT_MISMATCH'));
      const [first, ...rest] = failures;
      throw new AiscError((first?.code ?? 'INTERNAL') as 'HTTP_FAILED', first?.message ?? '', { problems: rest.map((f) => `${f.code} ${f.message}`) });
    }
    for (const plan of plans) await plan.finish?.();
    return plans.map((plan) => ({
      name: plan.name,
      where: plan.where,
      files: plan.tasks.length,
      present: presentCount.get(plan.name) ?? 0,
      downloaded: plan.tasks.length - (presentCount.get(plan.name) ?? 0),
      bytes: plan.tasks.reduce((sum, task) => sum + task.expected.size, 0),
    }));
  } finally {
    await network.close();
  }
}

function isFetchable(artifact: FileArtifact): boolean {
  const source = artifact.source;
  return source.type === 'huggingface' || (source.type === 'url' && source.path !== undefined) || (source.type === 'archive' && source.url !== undefined && source.path !== undefined);
}

interface Plan {
  name: string;
  where: string;
  tasks: Task[];
  finish?: () => Promise<void>;
}

function planArtifact(name: string, artifact: FileArtifact, lockfile: string, env: NodeJS.ProcessEnv, network: Network): Plan {
  const source = artifact.source;
  if (source.type === 'huggingface') return planHub(name, artifact, source, env, network);
  const path = source.type === 'url' || source.type === 'archive' ? source.path : undefined;
  const url = source.type === 'url' ? source.url : source.type === 'archive' ? source.url : undefined;
  if (path === undefined || url === undefined) throw new AiscError('USAGE', `${name}: nothing to fetch`);
  const dest = fromLockfileFolder(path, lockfile);
  const file = artifact.files[0];
  const expected: Expected = source.type === 'archive' ? { size: source.size, sha256: source.sha256 } : { size: file?.size ?? 0, sha256: file?.sha256 ?? '' };
  const what = `${name}: ${url}`;
  const task: Task = {
    artifact: name,
    what,
    expected,
    present: dest,
    fetch: async (onBytes) => {
      await makeFolder(dirname(dest));
      await withFileLock(`${dest}.aisc.lock`, {}, async () => {
        if (await isPresent(task)) return;
        await downloadFile({ dest, partial: `${dest}.aisc-download`, expected, what, onBytes, request: async (from) => (await network.http()).send(url, { what, from }) });
      });
    },
  };
  return { name, where: dest, tasks: [task] };
}

function planHub(name: string, artifact: FileArtifact, source: HubSource, env: NodeJS.ProcessEnv, network: Network): Plan {
  const cached = toCachedRepo(getHubCacheDir(env), source.repoType, source.repo);
  const snapshot = getSnapshotFolder(cached, source.revision);
  const blobs = join(cached.repoFolder, 'blobs');
  const spec = { repoType: source.repoType, repo: source.repo, ref: source.ref };
  const tasks = artifact.files.map((file): Task => {
    const what = `${name}: ${file.path}`;
    const expected: Expected = { size: file.size, sha256: file.sha256 };
    const task: Task = {
      artifact: name,
      what,
      expected,
      present: join(snapshot, ...file.path.split('/')),
      inside: blobs,
      fetch: async (onBytes) => {
        await makeFolder(blobs);
        const locks = join(cached.cacheDir, '.locks', getRepoFolderName(source.repoType, source.repo));
        await makeFolder(locks);
        await withFileLock(join(locks, `${file.sha256}.aisc.lock`), {}, async () => {
          let blob = join(blobs, file.sha256);
          if (!(await hashesTo(blob, expected))) {
            let last: HttpResponse | undefined;
            await downloadFile({
              dest: blob,
              partial: join(blobs, `${file.sha256}.aisc.incomplete`),
              expected,
              what,
              onBytes,
              request: async (from) => (last = await (await network.hub()).download(spec, source.revision, file.path, from)),
            });
            blob = await nameBlob(blobs, file.sha256, file.size, last);
          }
          await linkSnapshot(snapshot, file.path, blob);
        });
      },
    };
    return task;
  });
  const finish = async (): Promise<void> => {
    // refs/<ref> → the locked commit, so `from_pretrained(repo, revision=ref)` finds it offline.
    if (source.ref === source.revision) return;
    const ref = join(cached.repoFolder, 'refs', ...source.ref.split('/'));
    await makeFolder(dirname(ref));
    await writeFileAtomic(ref, source.revision, { what: 'HF cache ref' });
  };
  return { name, where: snapshot, tasks, finish };
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

/** The file is there (through links only into `inside`) and hashes to what is locked. */
async function isPresent(task: Task): Promise<boolean> {
  try {
    const stats = await lstat(task.present);
    if (!stats.isSymbolicLink()) return stats.isFile() && (await hashesTo(task.present, task.expected));
    // A snapshot link counts only when it leads into the repo's own blobs/.
    if (task.inside === undefined) return false;
    const [real, inside] = [await realpath(task.present), await realpath(task.inside)];
    return real.startsWith(`${inside}/`) && (await hashesTo(real, task.expected));
  } catch {
    return false;
  }
}

async function hashesTo(path: string, expected: Expected): Promise<boolean> {
  try {
    const stats = await lstat(path);
    if (!stats.isFile() || stats.size !== expected.size) return false;
    const hasher = new ContentHasher(expected.size, false);
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) hasher.update(chunk);
    return hasher.digest().sha256 === expected.sha256;
  } catch {
    return false;
  }
}

/** Runs every task with at most `limit` at once; every task runs, failures are collected. */
async function runBounded<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<AiscError<string>[]> {
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
