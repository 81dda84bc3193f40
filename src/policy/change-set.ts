import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { diffLockfiles } from '../diff/diff.js';
import type { LockfileDiff } from '../diff/types.js';
import { AiscError, isAiscError } from '../errors.js';
import { decodeLockfile, MAX_LOCKFILE_BYTES, parseLockfile, toLockfileText } from '../lockfile/index.js';
import type { Lockfile } from '../lockfile/types.js';
import { loadPolicy } from './read.js';
import { gitSource, workingTree, type FileSource } from './source.js';
import type { LoadedPolicy } from './types.js';

export interface Side {
  where: string;
  lockfile: Lockfile;
  /** SHA-256 of the lockfile's canonical text: what approvals bind. */
  lockfileDigest: string;
  policy?: LoadedPolicy;
}

export interface ChangeSet {
  base: Side;
  next: Side;
  diff: LockfileDiff;
}

export function getLockfileDigest(lockfile: Lockfile): string {
  return createHash('sha256').update(toLockfileText(lockfile)).digest('hex');
}

/**
 * The base side of a change: `git:REF` reads the lockfile and the policy (and the keys it names)
 * as they are at that commit; a path reads that lockfile, with the current policy as its policy.
 */
export async function loadBase(spec: string, paths: { lockfile: string; policy: string }): Promise<Side> {
  if (spec.startsWith('git:')) {
    const source = await gitSource(spec.slice(4));
    return { ...(await readBaseLockfile(source, paths.lockfile)), policy: await loadOptionalPolicy(paths.policy, source) };
  }
  return { ...(await readBaseLockfile(workingTree, spec)), policy: await loadOptionalPolicy(paths.policy, workingTree) };
}

async function readLockfileFrom(source: FileSource, path: string): Promise<Omit<Side, 'policy'>> {
  const where = source.describe(path);
  // Manifests come from the same place as the lockfile: the base's from the base commit.
  const manifests = (relativePath: string, limit: number): Promise<Buffer> => source.read(join(dirname(path), relativePath), limit, 'manifest');
  const lockfile = await parseLockfile(decodeLockfile(await source.read(path, MAX_LOCKFILE_BYTES, 'lockfile'), where), where, manifests);
  return { where, lockfile, lockfileDigest: getLockfileDigest(lockfile) };
}

/** The base's problems are named as the base's (BASE_INVALID), so nobody fixes the wrong file. */
async function readBaseLockfile(source: FileSource, path: string): Promise<Omit<Side, 'policy'>> {
  try {
    return await readLockfileFrom(source, path);
  } catch (error) {
    if (isAiscError(error) && error.code.startsWith('BASE_')) throw error;
    throw new AiscError('BASE_INVALID', `base lockfile ${source.describe(path)}: ${(error as Error).message}`, { cause: error, problems: isAiscError(error) ? error.problems : [] });
  }
}

/** A policy that is not there is no policy (nothing required); one that is there must be valid. */
export async function loadOptionalPolicy(path: string, source: FileSource = workingTree): Promise<LoadedPolicy | undefined> {
  try {
    return await loadPolicy(path, source);
  } catch (error) {
    if (isAiscError(error) && error.code === 'POLICY_NOT_FOUND') return undefined;
    throw error;
  }
}

export function toChangeSet(base: Side, next: Side): ChangeSet {
  const from = base.policy?.digest ?? 'none';
  const to = next.policy?.digest ?? 'none';
  return { base, next, diff: diffLockfiles(base.lockfile, next.lockfile, from === to ? {} : { policyChanged: { from, to } }) };
}

/** The change from `base` to the lockfile and policy in the working tree. */
export async function loadChangeSet(options: { base: string; lockfile: string; policy: string }): Promise<ChangeSet> {
  const base = await loadBase(options.base, options);
  const next = await readLockfileFrom(workingTree, options.lockfile);
  return toChangeSet(base, { ...next, policy: await loadOptionalPolicy(options.policy) });
}
