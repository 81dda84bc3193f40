import { realpathSync } from 'node:fs';
import { isAbsolute, join, dirname, resolve } from 'node:path';
import type { FileArtifact } from '../lockfile/types.js';
import { getHubCacheDir, getSnapshotFolder, toCachedRepo } from './hf-cache.js';
import { fromLocalSource } from './local.js';

/** Where a locked artifact is on this machine, and how verify reads it. */
export type LocalCopy =
  /** Its files, under `root` (links may lead into `linkRoot`: an HF cache repo's blobs/). */
  | { mode: 'files'; root: string; linkRoot?: string; hint?: string }
  /** The archive itself: its bytes must hash to the locked archive digest. */
  | { mode: 'archive'; path: string }
  /** Nowhere known: `--artifact NAME=PATH` must say. */
  | { mode: 'none'; hint: string };

/** Resolves a path recorded relative to the lockfile's folder. */
export function fromLockfileFolder(path: string, lockfile: string): string {
  return isAbsolute(path) || path.startsWith('/') ? path : join(dirname(resolve(lockfile)), ...path.split('/'));
}

/**
 * Where verify finds an artifact without --artifact: a local source's folder, a Hub commit's
 * snapshot in the Hugging Face cache (HF_HUB_CACHE, HF_HOME), the file a URL was kept at, or the
 * kept archive.
 */
export function getLocalCopy(name: string, artifact: FileArtifact, lockfile: string, env: NodeJS.ProcessEnv = process.env): LocalCopy {
  const source = artifact.source;
  switch (source.type) {
    case 'local':
      return { mode: 'files', root: fromLocalSource(source, lockfile) };
    case 'huggingface': {
      const cached = toCachedRepo(getHubCacheDir(env), source.repoType, source.repo);
      let linkRoot: string | undefined;
      try {
        linkRoot = realpathSync(join(cached.repoFolder, 'blobs'));
      } catch {
        linkRoot = undefined;
      }
      return { mode: 'files', root: getSnapshotFolder(cached, source.revision), linkRoot, hint: `not in the Hugging Face cache (${cached.cacheDir}); run aisc fetch ${name}, or pass --artifact ${name}=DIR for a local_dir copy` };
    }
    case 'url':
      if (source.path === undefined) return { mode: 'none', hint: `locked from ${source.url} without --path; pass --artifact ${name}=FILE` };
      return { mode: 'files', root: fromLockfileFolder(source.path, lockfile), hint: `run aisc fetch ${name}` };
    case 'archive':
      if (source.path === undefined) return { mode: 'none', hint: `locked from ${source.url ?? 'an archive'} without --path; pass --artifact ${name}=DIR (an extracted copy)` };
      return { mode: 'archive', path: fromLockfileFolder(source.path, lockfile) };
    default: {
      const never: never = source;
      return never;
    }
  }
}
