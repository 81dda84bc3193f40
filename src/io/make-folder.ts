import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode } from '../errors.js';

/**
 * `mkdir -p`: makes `target` and the folders above it that are missing, and returns the first
 * folder it made, in the form `target` was given (undefined when it was already a folder), as
 * Node's recursive mkdir does. Unlike it, it gives up when a folder it has just seen cannot take a
 * new one: Node's own loops forever where mkdir in an existing folder says ENOENT (/proc, /sys),
 * so `--cache /proc/x/y` hung at full CPU. Errors are Node's (EEXIST or ENOTDIR when a file is in
 * the way, EACCES, ENOENT, …).
 */
export async function makeFolder(target: string, mode?: number): Promise<string | undefined> {
  try {
    await mkdir(target, mode);
    return target;
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST' && (await stat(target).catch(() => undefined))?.isDirectory()) return undefined;
    const parent = dirname(target);
    if (code !== 'ENOENT' || parent === target) throw error;
    const made = await makeFolder(parent, mode);
    // The parent is there now: a second ENOENT is the filesystem's answer, not a race to retry.
    await mkdir(target, mode).catch(async (again: unknown) => {
      if (errnoCode(again) !== 'EEXIST' || !(await stat(target).catch(() => undefined))?.isDirectory()) throw again;
    });
    return made ?? target;
  }
}

/** makeFolder, synchronously (for a worker thread's plain calls and start-up paths). */
export function makeFolderSync(target: string, mode?: number): string | undefined {
  try {
    mkdirSync(target, mode);
    return target;
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST' && isFolder(target)) return undefined;
    const parent = dirname(target);
    if (code !== 'ENOENT' || parent === target) throw error;
    const made = makeFolderSync(parent, mode);
    try {
      mkdirSync(target, mode);
    } catch (again) {
      if (errnoCode(again) !== 'EEXIST' || !isFolder(target)) throw again;
    }
    return made ?? target;
  }
}

function isFolder(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
