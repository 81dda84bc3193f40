import { randomBytes } from 'node:crypto';
import { constants, readFileSync } from 'node:fs';
import { link, lstat, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AiscError, errnoCode } from '../errors.js';
import { escapeRegExp, toTempPattern } from './atomic-write.js';

export interface FileLockOptions {
  /** How long to wait for a live holder; default 10 minutes. */
  timeoutMs?: number;
  /** Told once when we start waiting. */
  onWait?: (message: string) => void;
}

/** What a lock file says: who holds it. `start` tells a reused pid from the process that wrote it. */
interface Holder {
  pid: number;
  host: string;
  start?: string;
  text: string;
  /** The inode the text was read from: a takeover removes that file and no other. */
  ino: bigint;
  /** Milliseconds since it was last written. */
  age: number;
}

/** Proof, inside the body, that the lock is still ours (checked again right before committing). */
export interface HeldLock {
  assertHeld(): Promise<void>;
}

const OWN_START = readStartTime(process.pid);
/** A lock file with no owner line for this long was left by a writer that died creating it. */
const UNOWNED_STALE_MS = 10_000;

/**
 * Runs `body` while holding `lockPath`, created exclusively. A lock left by a dead process on
 * this host is taken over without racing: takeovers are serialised by a second lock, and the stale
 * file is removed only after re-reading it, by inode, under that lock. A live holder's lock is
 * never removed; a writer checks it still holds its own lock right before it commits.
 */
export async function withFileLock<T>(lockPath: string, options: FileLockOptions, body: (lock: HeldLock) => Promise<T>): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const own = `${process.pid}@${hostname()} ${OWN_START ?? '-'} ${randomBytes(8).toString('hex')}`;
  let told = false;
  let delay = 10;
  let ino: bigint;
  for (;;) {
    const created = await createExclusive(lockPath, own);
    if (created !== undefined) {
      ino = created;
      break;
    }
    await clearPlanted(lockPath);
    const holder = await readHolder(lockPath);
    if (holder === undefined) {
      // Gone between the two looks (released, or a planted name just removed): try again, within the deadline.
      if (Date.now() > deadline) throw new AiscError('LOCK_TIMEOUT', `${lockPath}: could not be taken before the deadline`);
      await sleep(5);
      continue;
    }
    if (isDead(holder)) {
      await breakStale(lockPath, holder);
      continue;
    }
    if (Date.now() > deadline) {
      throw new AiscError('LOCK_TIMEOUT', `${lockPath}: still held by ${describe(holder)}; remove it if no aisc is running`);
    }
    if (!told) {
      options.onWait?.(`waiting for ${lockPath} (held by ${describe(holder)})`);
      told = true;
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 250);
  }
  const held: HeldLock = {
    async assertHeld() {
      const now = await readHolder(lockPath);
      if (now?.ino !== ino || now.text !== own) {
        throw new AiscError('LOCK_LOST', `${lockPath}: another process took the lock over while this one held it; nothing was written, run the command again`);
      }
    },
  };
  try {
    await removeDeadLeftovers(lockPath);
    return await body(held);
  } finally {
    await unlinkIfSame(lockPath, ino);
  }
}

/** Creates the lock with our owner line; its inode, or undefined when it already exists. */
async function createExclusive(path: string, text: string): Promise<bigint | undefined> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return undefined;
    throw new AiscError('WRITE_FAILED', `${path}: cannot create the lock file (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
  try {
    await handle.writeFile(`${text}\n`);
    await handle.sync();
    return (await handle.stat({ bigint: true })).ino;
  } finally {
    await handle.close();
  }
}

/**
 * A lock name aisc only ever creates as a regular file: a symlink, FIFO or socket found there was
 * planted (a lockfile folder in a pull request, a shared cache) and is removed — the name itself,
 * never what a link points to — so it can neither stall the wait nor redirect it. A folder there
 * cannot be removed without deleting someone's content: refused.
 */
async function clearPlanted(path: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw new AiscError('WRITE_FAILED', `${path}: cannot inspect the lock file (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
  if (stats.isFile()) return;
  if (stats.isDirectory()) throw new AiscError('WRITE_REFUSED', `${path}: a folder where aisc keeps its lock file; remove it`);
  await unlink(path).catch((error: unknown) => {
    if (errnoCode(error) !== 'ENOENT') throw new AiscError('WRITE_FAILED', `${path}: cannot remove what was planted at the lock's name (${errnoCode(error) ?? String(error)})`, { cause: error });
  });
}

/** Reads a lock through one handle, so the text and the inode belong together. Undefined: gone (or not a lock file). */
async function readHolder(path: string): Promise<Holder | undefined> {
  let handle;
  try {
    // Never through a link, and never blocking on a FIFO: clearPlanted removes those.
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ELOOP') return undefined;
    throw new AiscError('WRITE_FAILED', `${path}: cannot read the lock file (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
  try {
    const stats = await handle.stat({ bigint: true });
    if (!stats.isFile()) return undefined;
    const { ino, mtimeMs } = stats;
    const age = Date.now() - Number(mtimeMs);
    const text = (await handle.readFile({ encoding: 'utf8' })).slice(0, 1024).trim();
    const match = /^(\d+)@(\S*)(?: (\S+))?/.exec(text);
    // A lock without an owner line is being written (live for now), or its writer died at once.
    if (!match) return { pid: 0, host: '', text, ino, age };
    return { pid: Number(match[1]), host: match[2] ?? '', start: match[3] === '-' ? undefined : match[3], text, ino, age };
  } finally {
    await handle.close();
  }
}

/** Dead: on this host, and its pid is gone or now belongs to a process started at another time. */
function isDead(holder: Holder): boolean {
  if (holder.pid <= 0) return holder.age > UNOWNED_STALE_MS;
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    return errnoCode(error) === 'ESRCH';
  }
  const start = readStartTime(holder.pid);
  return holder.start !== undefined && start !== undefined && start !== holder.start;
}

/** Removes the stale lock we read, and only it: under the takeover lock, after reading it again. */
async function breakStale(lockPath: string, stale: Holder): Promise<void> {
  const guardPath = `${lockPath}.break`;
  const guardText = `${process.pid}@${hostname()} ${OWN_START ?? '-'} ${randomBytes(8).toString('hex')}`;
  const guard = await createExclusive(guardPath, guardText);
  if (guard === undefined) {
    // Another process is taking over. Its guard is stale only if it died in these few steps.
    const other = await readHolder(guardPath);
    if (other && isDead(other)) await removeByInode(guardPath, other.ino);
    else await sleep(5);
    return;
  }
  try {
    const again = await readHolder(lockPath);
    if (again?.ino === stale.ino && isDead(again)) await unlink(lockPath).catch(() => undefined);
  } finally {
    await unlinkIfSame(guardPath, guard);
  }
}

/**
 * Removes `path` only if it is still the file with inode `ino`: renamed aside first (atomic), then
 * checked; another file moved aside by mistake is put back with link, which never replaces one.
 */
async function removeByInode(path: string, ino: bigint): Promise<void> {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const moved = await stat(aside, { bigint: true }).catch(() => undefined);
  if (moved && moved.ino !== ino) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function unlinkIfSame(path: string, ino: bigint): Promise<void> {
  const now = await stat(path, { bigint: true }).catch(() => undefined);
  if (now?.ino === ino) await unlink(path).catch(() => undefined);
}

/**
 * Temp files and set-aside locks that dead writers left beside the lock. Every writer writes its
 * temp file only while holding the lock, so while we hold it, one whose pid is gone is garbage.
 */
async function removeDeadLeftovers(lockPath: string): Promise<void> {
  const aside = new RegExp(`^${escapeRegExp(basename(lockPath))}(?:\\.break)?\\.(\\d+)\\.[0-9a-f]+\\.stale$`);
  await removeDeadMatching(dirname(lockPath), [toTempPattern(basename(lockPath).replace(/\.lock$/, '')), aside]);
}

/** Temp files of `name` in `folder` whose writer is dead (call while holding the lock they are written under). */
export async function removeDeadTemps(folder: string, name: string): Promise<void> {
  await removeDeadMatching(folder, [toTempPattern(name)]);
}

/** Removes the files in `folder` that a pattern matches and whose captured pid (group 1) is dead. */
async function removeDeadMatching(folder: string, patterns: RegExp[]): Promise<void> {
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names) {
    const pid = patterns.map((pattern) => pattern.exec(name)?.[1]).find((found) => found !== undefined);
    if (pid !== undefined && isDead({ pid: Number(pid), host: hostname(), text: '', ino: 0n, age: 0 })) await unlink(join(folder, name)).catch(() => undefined);
  }
}

/** When a process started (Linux: clock ticks since boot, from /proc), to tell a reused pid. */
function readStartTime(pid: number): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function describe(holder: Holder): string {
  return holder.pid > 0 ? `${holder.pid}@${holder.host}` : 'another aisc';
}
