import { homedir } from 'node:os';
import { join } from 'node:path';
import type { OciSource } from '../../lockfile/types.js';
import { fromLockfileFolder } from '../local.js';

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
  return join(getOciCacheDir(env), source.registry.replace(':', '+'), ...source.repository.split('/'), source.digest.replace(':', '-'));
}
