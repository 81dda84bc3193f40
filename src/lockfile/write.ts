import { type FileLockOptions, withFileLock, writeFileAtomic } from '../io/index.js';
import { toCanonicalJson } from './canonical-json.js';
import { sortFiles } from './digest.js';
import { readLockfileSnapshot, type LockfileSnapshot } from './read.js';
import { emptyLockfile, type Artifact, type Lockfile } from './types.js';

/** The canonical bytes of a lockfile: files in path order, keys sorted, artifacts by name. */
export function toLockfileText(lockfile: Lockfile): string {
  const artifacts = new Map<string, Artifact>();
  for (const [name, artifact] of lockfile.artifacts) {
    artifacts.set(name, artifact.kind === 'npm' ? artifact : { ...artifact, files: sortFiles(artifact.files) });
  }
  return toCanonicalJson({ lockfileVersion: lockfile.lockfileVersion, artifacts });
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
    const next = await update(current);
    await writeFileAtomic(path, toLockfileText(next), { what: 'lockfile', beforeRename: () => lock.assertHeld() });
    return next;
  });
}

