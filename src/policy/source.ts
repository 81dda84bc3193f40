import { execFile } from 'node:child_process';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { AiscError } from '../errors.js';
import { readBoundedBytes } from '../io/index.js';

const run = promisify(execFile);

/** Where policy, lockfile and key bytes come from: the working tree, or one git commit. */
export interface FileSource {
  /** Reads `path` (relative to the current folder, or absolute) within `limit` bytes. */
  read(path: string, limit: number, what: string): Promise<Buffer>;
  describe(path: string): string;
}

export const workingTree: FileSource = {
  read: (path, limit, what) => readBoundedBytes(path, { limit, what }),
  describe: (path) => path,
};

/**
 * Files as they are at a git commit (`git:REF`): read with `git show REF:path`, so a pull request
 * cannot change what the base says, nor the keys the base policy names.
 */
export async function gitSource(ref: string): Promise<FileSource> {
  if (!/^[A-Za-z0-9._/@^~{}-]+$/.test(ref) || ref.startsWith('-')) throw new AiscError('BASE_INVALID', `git:${ref}: not a usable git reference`);
  let top: string;
  let commit: string;
  try {
    top = (await run('git', ['rev-parse', '--show-toplevel'])).stdout.trim();
    commit = (await run('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).stdout.trim();
  } catch (error) {
    throw new AiscError('BASE_INVALID', `git:${ref}: no such commit (or not inside a git repository)`, { cause: error });
  }
  return {
    async read(path, limit, what) {
      const rel = relative(top, resolve(path));
      if (rel.startsWith('..') || isAbsolute(rel)) throw new AiscError('BASE_INVALID', `${path}: outside the git repository, cannot be read at git:${ref}`);
      try {
        const { stdout } = await run('git', ['show', `${commit}:${rel.split(sep).join('/')}`], { encoding: 'buffer', maxBuffer: limit + 1 });
        if (stdout.length > limit) throw new AiscError('BASE_INVALID', `git:${ref}:${rel}: expected a ${what} of at most ${limit} bytes`);
        return stdout;
      } catch (error) {
        if (error instanceof AiscError) throw error;
        throw new AiscError('BASE_NOT_FOUND', `git:${ref}:${rel.split(sep).join('/')}: no such ${what} at that commit`, { cause: error });
      }
    },
    describe: (path) => `git:${ref}:${relative(top, resolve(path)).split(sep).join('/')}`,
  };
}

/** A path written in a policy, resolved against the policy file's folder. */
export function resolveFromPolicy(policyPath: string, path: string): string {
  return isAbsolute(path) ? path : join(dirname(policyPath), path);
}
