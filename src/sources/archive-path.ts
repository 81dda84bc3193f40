import { basename } from 'node:path';

/** A .tar, .tgz or .tar.gz by its name: its members are the artifact's files. */
export function isArchivePath(path: string): boolean {
  return /\.(?:tar|tgz|tar\.gz)$/i.test(path);
}

/** The artifact's default name: the archive's base name without its extension. */
export function getArchiveName(path: string): string {
  return basename(path).replace(/\.(?:tar|tgz|tar\.gz)$/i, '');
}
