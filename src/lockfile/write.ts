import { dirname } from 'node:path';
import { type FileLockOptions, withFileLock, writeFileAtomic } from '../io/index.js';
import { toCanonicalJson } from './canonical-json.js';
import { sortFiles } from './digest.js';
import { readLockfileSnapshot, type LockfileSnapshot } from './read.js';
import { MANIFEST_THRESHOLD, writeManifest } from './manifest.js';
import { emptyLockfile, type Artifact, type FileArtifact, type Lockfile } from './types.js';

/**
 * The canonical bytes of a lockfile: files in path order, keys sorted, artifacts by name. An
 * artifact with a manifest is written with its manifest's pin in place of its files.
 */
export function toLockfileText(lockfile: Lockfile): string {
  const artifacts = new Map<string, unknown>();
  for (const [name, artifact] of lockfile.artifacts) {
    if (artifact.kind === 'npm') artifacts.set(name, artifact);
    else if (artifact.manifest) artifacts.set(name, { ...artifact, files: undefined });
    else artifacts.set(name, { ...artifact, files: sortFiles(artifact.files) });
  }
  return toCanonicalJson({ lockfileVersion: lockfile.lockfileVersion, artifacts });
}

/**
 * Puts every artifact of more than MANIFEST_THRESHOLD files into a manifest beside the lockfile
 * (written before the lockfile that pins it: an interrupted lock leaves an unused manifest, never
 * a dangling pin); smaller ones list their files inline. Artifacts read without listing their
 * manifest (empty `files`) keep it as it is.
 */
export async function toStoredLockfile(lockfile: Lockfile, lockfilePath: string): Promise<Lockfile> {
  const artifacts = new Map<string, Artifact>();
  for (const [name, artifact] of lockfile.artifacts) {
    if (artifact.kind === 'npm' || (artifact.manifest && artifact.files.length === 0)) {
      artifacts.set(name, artifact);
    } else if (artifact.files.length > MANIFEST_THRESHOLD) {
      const files = sortFiles(artifact.files);
      artifacts.set(name, { ...artifact, files, manifest: await writeManifest(dirname(lockfilePath), files) });
    } else {
      const inline: FileArtifact = { ...artifact };
      delete inline.manifest;
      artifacts.set(name, inline);
    }
  }
  return { ...lockfile, artifacts };
}


/**
 * Runs `update` on the current lockfile while holding `<lockfile>.lock`, then writes the result
 * atomically. Concurrent `aisc lock` runs queue here, so each lands on top of the other.
 */
export async function updateLockfile(
  path: string,
  update: (current: Lockfile) => Lockfile | Promise<Lockfile>,
  options: FileLockOptions & { reuse?: LockfileSnapshot } = {},
): Promise<Lockfile> {
  return withFileLock(`${path}.lock`, options, async (lock) => {
    const current = (await readLockfileSnapshot(path, options.reuse))?.lockfile ?? emptyLockfile();
    const next = await toStoredLockfile(await update(current), path);
    await writeFileAtomic(path, toLockfileText(next), { what: 'lockfile', beforeRename: () => lock.assertHeld() });
    return next;
  });
}

