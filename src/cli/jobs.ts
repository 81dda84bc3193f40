import { availableParallelism } from 'node:os';

/** More hashing threads than this only cost memory (each holds 8 MiB of read buffers). */
export function getMaxJobs(): number {
  return Math.min(256, 4 * availableParallelism());
}

/** Why `value` is not a --jobs count, or undefined: the one rule, checked before any worker starts. */
export function getJobsProblem(value: string): string | undefined {
  const max = getMaxJobs();
  const jobs = Number(value);
  if (!/^\d{1,4}$/.test(value) || jobs < 1 || jobs > max) return `expected a whole number from 1 to ${max} (4 × this machine's ${availableParallelism()} cores), got ${JSON.stringify(value)}`;
  return undefined;
}

/**
 * What bin/aisc.js asks before loading the CLI: whether this command line will hash, and with how
 * many threads, so the pool can boot while the rest loads. Help, and a --jobs that the CLI will
 * refuse, start nothing.
 */
export function getPrestartJobs(args: readonly string[]): { jobs?: number } | undefined {
  const [command, ...rest] = args;
  // verify starts its workers only when it has enough to read: an unchanged cached verify, or a
  // one-file lockfile, hashes nothing or little, sooner on the main thread than a worker boots.
  if (command !== 'lock') return undefined;
  if (rest.some((arg) => arg === '--help' || arg === '-h' || arg === '--')) return undefined;
  // `lock package-lock.json` hashes nothing: two idle worker isolates would only take CPU from it.
  if (isPackageLockOnly(rest)) return undefined;
  const at = rest.findIndex((arg) => arg === '--jobs' || arg.startsWith('--jobs='));
  if (at < 0) return {};
  const flag = rest[at] ?? '';
  const value = flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : rest[at + 1];
  if (value === undefined || getJobsProblem(value) !== undefined) return undefined;
  return { jobs: Number(value) };
}

/** lock's flags that take no value (every other flag takes the next argument, unless written --flag=value). */
const LOCK_SWITCHES: ReadonlySet<string> = new Set(['--force', '--allow-symlinks', '-q', '--quiet']);

/**
 * Whether every source of a lock command line is a package-lock.json (or npm-shrinkwrap.json):
 * the npm lock, which fetches and verifies registry documents and hashes no file.
 */
export function isPackageLockOnly(args: readonly string[]): boolean {
  const sources: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('-')) sources.push(arg);
    else if (!arg.includes('=') && !LOCK_SWITCHES.has(arg)) i++;
  }
  return sources.length > 0 && sources.every((arg) => /(^|\/)(package-lock|npm-shrinkwrap)\.json$/.test(arg));
}
