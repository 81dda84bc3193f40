import semver from 'semver';

export type BumpClass = 'npm-major' | 'npm-minor' | 'npm-patch' | 'npm-prerelease' | 'npm-downgrade';

/** How a version moved, as semver sees it; a move down is a downgrade whatever its size. */
export function classifyBump(from: string, to: string): BumpClass | undefined {
  const a = semver.valid(from);
  const b = semver.valid(to);
  if (!a || !b || semver.eq(a, b)) return undefined;
  if (semver.lt(b, a)) return 'npm-downgrade';
  switch (semver.diff(a, b)) {
    case 'major':
    case 'premajor':
      return 'npm-major';
    case 'minor':
    case 'preminor':
      return 'npm-minor';
    case 'patch':
    case 'prepatch':
      return 'npm-patch';
    default:
      return 'npm-prerelease';
  }
}
