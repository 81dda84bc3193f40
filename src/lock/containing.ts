import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Lockfile } from '../lockfile/types.js';
import { toIgnoreMatcher, toRecorded } from '../sources/index.js';

/**
 * The locked folder artifact that `path` would land in, and not be ignored by: a file written
 * there is an EXTRA_FILE at the next verify. Undefined when it lands in none.
 */
export function findArtifactContaining(lockfile: Lockfile, lockfilePath: string, path: string): { name: string; relativePath: string } | undefined {
  const target = resolve(path);
  for (const [name, artifact] of lockfile.artifacts) {
    if (artifact.kind === 'npm' || artifact.layout !== 'directory') continue;
    const copy = toRecorded(artifact.source).locate(name, artifact, lockfilePath, process.env);
    if (copy.mode !== 'files') continue;
    const rel = relative(resolve(copy.root), target);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) continue;
    const relativePath = rel.split(sep).join('/');
    if (!toIgnoreMatcher(artifact.ignore ?? [])(relativePath)) return { name, relativePath };
  }
  return undefined;
}
