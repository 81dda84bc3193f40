import { lstatSync, realpathSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { HashJob } from './types.js';

/**
 * The file a worker would open for `job`, stat'ed as it would reach it: never through a link
 * unless the job follows links, and then only to a file inside its root or link root. Undefined
 * for anything else (gone, a folder, a link leading out).
 */
export function statJobTarget(job: Pick<HashJob, 'root' | 'path' | 'followSymlinks' | 'linkRoot'>): BigIntStats | undefined {
  const absolute = join(job.root, job.path);
  try {
    if (!job.followSymlinks) {
      const stats = lstatSync(absolute, { bigint: true });
      return stats.isFile() ? stats : undefined;
    }
    const real = realpathSync(absolute);
    if (!real.startsWith(`${job.linkRoot ?? job.root}/`) && !real.startsWith(`${job.root}/`)) return undefined;
    const stats = statSync(real, { bigint: true });
    return stats.isFile() ? stats : undefined;
  } catch {
    return undefined;
  }
}
