import type { BigIntStats } from 'node:fs';

/**
 * Why a cache folder or file is not this user's alone, or undefined: another user who can write a
 * cache of digests could make any bytes pass for the ones it names.
 */
export function getPrivacyProblem(stats: BigIntStats): string | undefined {
  const uid = process.getuid?.();
  if ((stats.mode & 0o022n) === 0n && (uid === undefined || stats.uid === BigInt(uid))) return undefined;
  return `must be owned by this user and writable by no one else (mode ${(Number(stats.mode) & 0o777).toString(8)}); chmod go-w it, or use another folder`;
}
