import { execFileSync } from 'node:child_process';

/** A Node older than 22 on this machine's PATH (CI machines ship Node 20), if there is one. */
export function findOldNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
      if (Number(version.slice(1).split('.')[0]) < 22) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}
