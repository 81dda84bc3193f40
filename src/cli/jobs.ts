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
  if (command !== 'lock' && command !== 'verify') return undefined;
  if (rest.some((arg) => arg === '--help' || arg === '-h' || arg === '--')) return undefined;
  // `lock package-lock.json` hashes nothing: two idle worker isolates would only take CPU from it.
  if (command === 'lock' && isPackageLockOnly(rest)) return undefined;
  // verify starts its workers itself when it has enough to read (an unchanged cached verify, or a
  // one-file lockfile, hashes nothing or little, sooner on the main thread than a worker boots).
  if (command === 'verify' && !hasMuchToHash(rest)) return undefined;
  const value = getFlagValue(rest, '--jobs');
  if (value === undefined) return rest.some((arg) => arg === '--jobs') ? undefined : {};
  if (getJobsProblem(value) !== undefined) return undefined;
  return { jobs: Number(value) };
}

/** What the main thread hashes itself rather than boot workers for (src/hashing/pool.ts INLINE_MAX_*). */
const INLINE_BYTES = 8 * 1024 * 1024;
const INLINE_FILES = 64;
/** A lockfile longer than this lists more files than the main thread hashes alone. */
const GLANCE_BYTES = 1024 * 1024;

/**
 * Whether a verify will hash more than its main thread would on its own, from a glance at the
 * lockfile's text before anything validates it (the verify itself reads it properly; this only
 * decides when workers boot): never with --cache, whose unchanged files are not read; else when
 * its files add up to more than that, it keeps file lists in manifests, or it is too long to glance at.
 */
export function hasMuchToHash(args: readonly string[]): boolean {
  if (args.some((arg) => arg === '--cache' || arg.startsWith('--cache='))) return false;
  const glance = glanceLockfile(args);
  return glance !== undefined && (glance.long || glance.bytes > INLINE_BYTES || glance.files > INLINE_FILES);
}

/** Up to this many files a verify runs without V8's --optimize-for-size (see wantsSmallHeap). */
const FEW_FILES = 1000;

/**
 * Whether bin/aisc.js sets V8's --optimize-for-size: a smaller heap (10,000-file artifacts lock in
 * ~118 MB instead of ~141 MB; a 10,000-file verify peaks ~8 MB lower and runs faster). Not for
 * `lock package-lock.json`: it holds 30 MB of registry JSON at a time, hashes no file, and spends
 * its time in the collector with the smaller heap. Not for a verify of a few files (a few big
 * weights): the flag is process-wide and slows each worker's boot from ~45 to ~85 ms (measured),
 * which is the wait before the second core hashes, and a few files keep the heap small anyway.
 */
export function wantsSmallHeap(args: readonly string[]): boolean {
  const [command, ...rest] = args;
  if (command === 'lock') return !isPackageLockOnly(rest);
  if (command !== 'verify') return true;
  const glance = glanceLockfile(rest);
  return glance === undefined || glance.long || glance.files > FEW_FILES;
}

/** What a glance at a lockfile's text finds: its files' sizes added up, how many, and whether it was too long to read. */
interface Glance {
  bytes: number;
  files: number;
  long: boolean;
}

const glances = new Map<string, Glance | undefined>();

/** The lockfile the verify command line names, glanced at once (undefined: it cannot be read). */
function glanceLockfile(args: readonly string[]): Glance | undefined {
  const lockfile = getFlagValue(args, '--lockfile') ?? 'aisc.lock.json';
  if (!glances.has(lockfile)) glances.set(lockfile, readGlance(lockfile));
  return glances.get(lockfile);
}

function readGlance(lockfile: string): Glance | undefined {
  const { closeSync, constants, fstatSync, openSync, readFileSync } = process.getBuiltinModule('node:fs');
  let fd: number;
  try {
    // O_NONBLOCK, and only a regular file is read: a FIFO named as the lockfile is the verify's to refuse, not a wait here.
    fd = openSync(lockfile, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return undefined;
    if (stats.size > GLANCE_BYTES) return { bytes: 0, files: 0, long: true };
    const text = readFileSync(fd, 'latin1');
    // File lists kept in manifests: as many files as a long lockfile, for all the glance can tell.
    if (text.includes('"manifest"')) return { bytes: 0, files: 0, long: true };
    let bytes = 0;
    let files = 0;
    for (const match of text.matchAll(/"size":\s*(\d{1,16})/g)) {
      bytes += Number(match[1]);
      files++;
    }
    return { bytes, files, long: false };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** `--flag VALUE` or `--flag=VALUE`; undefined when absent or given without a value. */
function getFlagValue(args: readonly string[], flag: string): string | undefined {
  const at = args.findIndex((arg) => arg === flag || arg.startsWith(`${flag}=`));
  if (at < 0) return undefined;
  const given = args[at] ?? '';
  return given.includes('=') ? given.slice(given.indexOf('=') + 1) : args[at + 1];
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
