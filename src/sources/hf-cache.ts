import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, sep } from 'node:path';
import { confine, inPlace, type WriteRoot } from '../io/index.js';
import type { HubSource } from '../lockfile/types.js';

/** The Hugging Face cache layout, as huggingface_hub and transformers read and write it. */

export type RepoType = HubSource['repoType'];

/** HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface. */
export function getHfHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HOME) return env.HF_HOME;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
}

/** HF_HUB_CACHE, else $HF_HOME/hub. */
export function getHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HUB_CACHE || join(getHfHome(env), 'hub');
}

/** `models--org--name`, `datasets--org--name`. */
export function getRepoFolderName(repoType: RepoType, repo: string): string {
  return `${repoType}s--${repo.split('/').join('--')}`;
}

export interface CachedRepo {
  cacheDir: string;
  /** The repo's folder in the cache (holds blobs/, snapshots/, refs/). */
  repoFolder: string;
  repoType: RepoType;
  repo: string;
}

export function toCachedRepo(cacheDir: string, repoType: RepoType, repo: string): CachedRepo {
  return { cacheDir, repoFolder: join(cacheDir, getRepoFolderName(repoType, repo)), repoType, repo };
}

/**
 * The cache as a place aisc writes: HF_HUB_CACHE itself is where the user put it; below it nothing
 * is followed through a link, since a cache is often shared between users and jobs.
 */
export function toCacheRoot(cached: CachedRepo): WriteRoot {
  return { folder: cached.cacheDir, what: 'the Hugging Face cache', hint: 'remove it: in a cache others may write to, aisc follows no link it did not make' };
}

/**
 * A path of the repo's cache (`blobs/<name>`, `snapshots/<commit>/<path>`, `refs/<ref>`,
 * `trees/<commit>.json`), or of its lock folder with `locks`, confined by the one path grammar:
 * its folders are made or checked one by one, never through a link (see toCacheError).
 */
export function confineInCache(cached: CachedRepo, relative: string, options: { locks?: boolean } = {}): Promise<string> {
  const folder = getRepoFolderName(cached.repoType, cached.repo);
  return confine(toCacheRoot(cached), options.locks ? `.locks/${folder}/${relative}` : `${folder}/${relative}`);
}

/** `what: message`, a refusal to write through what someone else put in the cache as CACHE_UNSAFE. */
export function toCacheError(error: unknown, what: string): unknown {
  return inPlace(error, what, { WRITE_REFUSED: 'CACHE_UNSAFE' });
}

export function getSnapshotFolder(cached: CachedRepo, commit: string): string {
  return join(cached.repoFolder, 'snapshots', commit);
}

const SNAPSHOT = /^(.*)[/\\](models|datasets)--([A-Za-z0-9][A-Za-z0-9._-]*)--([A-Za-z0-9][A-Za-z0-9._-]*)[/\\]snapshots[/\\]([0-9a-f]{40})$/;

/** A folder that is a snapshot of the HF cache: its repo and commit (from the path alone). */
export function parseSnapshotPath(path: string): (CachedRepo & { commit: string }) | undefined {
  const match = SNAPSHOT.exec(path.replace(/[/\\]+$/, ''));
  if (!match) return undefined;
  const [, cacheDir = '', type = '', org = '', name = '', commit = ''] = match;
  // `org--name` is ambiguous only if a part held '--', which Hub names cannot.
  if (org.includes('--') || name.includes('--')) return undefined;
  return { ...toCachedRepo(cacheDir, type === 'datasets' ? 'dataset' : 'model', `${org}/${name}`), commit };
}

/** The refs (branch, tag, refs/pr/N) the cache says point at `commit`, in name order. */
export function findRefs(cached: CachedRepo, commit: string): string[] {
  const refs: string[] = [];
  const visit = (folder: string, prefix: string): void => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) visit(join(folder, entry.name), name);
      else if (entry.isFile()) {
        try {
          if (readFileSync(join(folder, entry.name), 'utf8').trim() === commit) refs.push(name);
        } catch {
          // An unreadable ref names nothing.
        }
      }
    }
  };
  visit(join(cached.repoFolder, 'refs'), '');
  return refs.sort();
}

/** Real path of the repo's blobs/ folder, where snapshot links must lead. */
export function getRealBlobsFolder(cached: CachedRepo): string | undefined {
  try {
    return realpathSync(join(cached.repoFolder, 'blobs'));
  } catch {
    return undefined;
  }
}

/** A snapshot link's target, relative to the link: `../../blobs/<name>` one level deeper per folder. */
export function toBlobLink(path: string, blob: string): string {
  const depth = path.split('/').length - 1;
  return [...Array<string>(depth + 2).fill('..'), 'blobs', blob].join(sep === '/' ? '/' : sep);
}
