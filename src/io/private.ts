import type { BigIntStats } from 'node:fs';

/**
 * Why a cache folder or file is not this user's alone, or undefined: another user who can write a
 * cache of digests could make any bytes pass for the ones it names.
 */
export function getPrivacyProblem(stats: BigIntStats): string | undefined {
  const uid = process.getuid?.();
  const owned = uid === undefined || stats.uid === BigInt(uid);
  const shared = (stats.mode & 0o022n) !== 0n;
  if (owned && !shared) return undefined;
  const mode = (Number(stats.mode) & 0o7777).toString(8);
  const fix = [owned ? '' : `it is owned by uid ${stats.uid}, not this user (uid ${uid})`, shared ? `its mode ${mode} lets others write it (chmod go-w)` : ''].filter(Boolean).join(', and ');
  return `must be owned by this user and writable by no one else: ${fix}; or use another folder`;
}
