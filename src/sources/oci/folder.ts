import { homedir } from 'node:os';
import { join } from 'node:path';
import type { WriteRoot } from '../../io/index.js';
import type { OciSource } from '../../lockfile/types.js';
import { fromLockfileFolder } from '../local.js';
import { toKeptRoot } from '../restore.js';

/** AISC_OCI_CACHE, else $XDG_CACHE_HOME/aisc/oci, else ~/.cache/aisc/oci. */
export function getOciCacheDir(env: NodeJS.ProcessEnv): string {
  return env.AISC_OCI_CACHE || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'aisc', 'oci');
}

/**
 * Where an OCI artifact's files are laid out by their paths: the `--path` given to lock, else the
 * aisc OCI cache, one folder per manifest digest (a new digest never overwrites the old one's files).
 */
export function getOciFolder(source: OciSource, lockfile: string, env: NodeJS.ProcessEnv): string {
  if (source.path !== undefined) return fromLockfileFolder(source.path, lockfile);
  return join(getOciCacheDir(env), ...getCacheBase(source).split('/'));
}

/**
 * The same place as a root fetch writes under and the artifact's folder below it: a path from the
 * lockfile stays under the lockfile's folder, the cache's under the cache; nothing below either
 * is written through a link (src/io/confine.ts).
 */
export function getOciPlace(name: string, source: OciSource, lockfile: string, env: NodeJS.ProcessEnv): { root: WriteRoot; base: string } {
  if (source.path === undefined) return { root: { folder: getOciCacheDir(env), what: 'the aisc OCI cache' }, base: getCacheBase(source) };
  return { root: toKeptRoot(name, source.path, lockfile), base: source.path };
}

function getCacheBase(source: OciSource): string {
  return [source.registry.replace(':', '+'), ...source.repository.split('/'), source.digest.replace(':', '-')].join('/');
}
