import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AiscError, errnoCode } from '../errors.js';
import { toCanonicalJson } from './canonical-json.js';
import { sortFiles } from './digest.js';
import { readLockfileSnapshot, type LockfileSnapshot } from './read.js';
import { emptyLockfile, type Artifact, type Lockfile } from './types.js';

/** The canonical bytes of a lockfile: files in path order, keys sorted, artifacts by name. */
export function toLockfileText(lockfile: Lockfile): string {
  const artifacts: Record<string, Artifact> = {};
  for (const [name, artifact] of Object.entries(lockfile.artifacts)) {
    artifacts[name] = artifact.kind === 'npm' ? artifact : { ...artifact, files: sortFiles(artifact.files) };
  }
  return toCanonicalJson({ lockfileVersion: lockfile.lockfileVersion, artifacts });
}

/**
 * Writes `text` so that readers see the old file or the new one, never a part: a temp file in the
 * same folder, fsync, rename over, fsync the folder. A crash at any point leaves the old file.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let mode = 0o644;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch {
    // a new file keeps the default mode
  }
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw new AiscError('WRITE_FAILED', `${path}: cannot write (${errnoCode(error) ?? String(error)}); the previous file is unchanged`, { cause: error });
  }
  await syncFolder(dirname(path));
}

async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // some filesystems refuse fsync on a folder; the rename is still atomic
  }
}

export interface LockOptions {
  /** How long to wait for another aisc holding the lock; default 10 minutes. */
  timeoutMs?: number;
  /** Told once when we start waiting. */
  onWait?: (message: string) => void;
}

/**
 * Runs `update` on the current lockfile while holding `<lockfile>.lock`, then writes the result
 * atomically. Concurrent `aisc lock` runs queue here, so each lands on top of the other.
 */
export async function updateLockfile(
  path: string,
  update: (current: Lockfile) => Lockfile | Promise<Lockfile>,
  options: LockOptions & { reuse?: LockfileSnapshot } = {},
): Promise<Lockfile> {
  return withFileLock(`${path}.lock`, options, async () => {
    const current = (await readLockfileSnapshot(path, options.reuse))?.lockfile ?? emptyLockfile();
    const next = await update(current);
    await writeFileAtomic(path, toLockfileText(next));
    return next;
  });
}

export async function withFileLock<T>(lockPath: string, options: LockOptions, body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const owner = `${process.pid}@${hostname()}`;
  let told = false;
  let delay = 20;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(`${owner}\n`);
      await handle.close();
      break;
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') {
        throw new AiscError('WRITE_FAILED', `${lockPath}: cannot create the lock file (${errnoCode(error) ?? String(error)})`, { cause: error });
      }
    }
    const holder = await readFile(lockPath, 'utf8').then((text) => text.trim(), () => '');
    if (holder && isStale(holder)) {
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new AiscError('LOCK_TIMEOUT', `${lockPath}: still held by ${holder || 'another process'}; remove it if no aisc is running`);
    }
    if (!told) {
      options.onWait?.(`waiting for ${lockPath} (held by ${holder || 'another aisc'})`);
      told = true;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 250);
  }
  try {
    return await body();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

/** A lock left by a process on this host that no longer exists (killed, crashed). */
function isStale(holder: string): boolean {
  const match = /^(\d+)@(.*)$/.exec(holder);
  if (!match || match[2] !== hostname()) return false;
  try {
    process.kill(Number(match[1]), 0);
    return false;
  } catch (error) {
    return errnoCode(error) === 'ESRCH';
  }
}
