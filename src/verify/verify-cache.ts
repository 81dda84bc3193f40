import { lstatSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { AiscError, errnoCode } from '../errors.js';
import { toSharedFormat, type Inspection } from '../formats/inspection.js';
import { toIdentity, type AnyHashResult, type FileIdentity, type HashJob } from '../hashing/index.js';
import { statJobTarget } from '../hashing/stat-target.js';
import { getPrivacyProblem } from '../io/private.js';
import { makeFolderSync, readBoundedText, writeFileAtomic } from '../io/index.js';
import { isChunkSize } from '../lockfile/chunks.js';
import { CONTENT_FORMATS, type ContentFormat, type FileChunks } from '../lockfile/types.js';

const CACHE_FILE = 'verify-cache.v1.jsonl';
const HEADER = '{"aiscVerifyCache":1}';
const MAX_CACHE_BYTES = 1024 * 1024 * 1024;
/**
 * A file changed less than this before it was read is not remembered: a write in the same clock
 * tick as the read could leave its ctime unchanged (git's "racy" entries, for the same reason).
 */
const RACY_NS = 2_000_000_000n;

/** A file read in full, by its whole-file digest, its chunk digests (a verify that compared only those), or both. */
interface CacheRecord extends FileIdentity {
  sha256?: string;
  chunks?: FileChunks;
  format?: ContentFormat;
  inspection?: Inspection;
}

/** Counts for the report: files answered from the cache, and files read. */
export interface CacheStats {
  path: string;
  hits: number;
  misses: number;
  /** Why this run's records could not be written (the next run reads those files again). */
  notSaved?: string;
}

/**
 * `verify --cache DIR`: per file, the device, inode, size, mtime and ctime it had when it was
 * last read in full, with its SHA-256 and inspection. A file whose identity is the same now is not
 * read again. A rewrite changes the ctime even when it restores the mtime, and no process can set
 * a ctime, so unchanged identity means unchanged bytes — unless someone can write the cache, which
 * is why the folder must be writable by this user alone.
 */
export class VerifyCache {
  private readonly records = new Map<string, CacheRecord>();
  private readonly fresh = new Map<string, CacheRecord>();
  private readonly roots = new Set<string>();
  readonly stats: CacheStats;

  private constructor(private readonly file: string) {
    this.stats = { path: file, hits: 0, misses: 0 };
  }

  static async open(dir: string): Promise<VerifyCache> {
    try {
      makeFolderSync(dir, 0o700);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EEXIST' || code === 'ENOTDIR') throw new AiscError('USAGE', `--cache ${dir}: not a folder (it, or a folder above it, is a file)`, { cause: error });
      throw new AiscError('WRITE_FAILED', `--cache ${dir}: cannot create the folder (${code ?? String(error)})`, { cause: error });
    }
    assertPrivate(dir, statSync(dir, { bigint: true }), 'folder');
    const cache = new VerifyCache(join(dir, CACHE_FILE));
    const existing = lstatSync(cache.file, { bigint: true, throwIfNoEntry: false });
    if (existing) {
      if (!existing.isFile()) throw new AiscError('CACHE_UNSAFE', `--cache ${dir}: ${CACHE_FILE} is not a regular file`);
      assertPrivate(cache.file, existing, 'file');
      cache.load(await readBoundedText(cache.file, { limit: MAX_CACHE_BYTES, what: 'verify cache' }));
    }
    return cache;
  }

  /**
   * The recorded result for a job whose file has the same identity now; undefined to read it. A
   * record of chunk digests answers only a job that asks for chunks of the same size; one of the
   * whole-file digest answers any (the bytes are then known whole).
   */
  lookup(job: HashJob): AnyHashResult | undefined {
    if (job.range) return undefined;
    const key = toKey(job);
    const record = this.records.get(key);
    const usable = record && (record.sha256 !== undefined || (record.chunks !== undefined && record.chunks.size === job.chunks?.size));
    const now = usable ? statJobTarget(job) : undefined;
    if (!record || !now || !sameIdentity(record, now)) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.roots.add(job.root);
    this.fresh.set(key, record);
    if (job.expectedSize !== undefined && record.size !== job.expectedSize) return { ok: false, code: 'SIZE_MISMATCH', message: 'size differs from the lockfile (not hashed)', size: record.size };
    const seen = { ...(record.format ? { format: record.format } : {}), ...(record.inspection ? { inspection: record.inspection } : {}) };
    if (record.sha256 !== undefined) return { ok: true, sha256: record.sha256, size: record.size, ...seen };
    return { ok: true, chunks: record.chunks?.sha256 ?? [], size: record.size, ...seen };
  }

  /** Remembers a file just read in full, unless it changed too recently to be sure of. */
  remember(job: HashJob, result: AnyHashResult, readAtNs: bigint): void {
    this.roots.add(job.root);
    if (!result.ok || !result.identity || job.range) return;
    if (BigInt(result.identity.ctimeNs) > readAtNs - RACY_NS || BigInt(result.identity.mtimeNs) > readAtNs - RACY_NS) return;
    const digests = {
      ...('sha256' in result ? { sha256: result.sha256 } : {}),
      ...(result.chunks && job.chunks ? { chunks: { size: job.chunks.size, sha256: result.chunks } } : {}),
    };
    this.fresh.set(toKey(job), { ...result.identity, ...digests, ...(result.format ? { format: result.format } : {}), ...(result.inspection ? { inspection: result.inspection } : {}) });
  }

  /**
   * Writes the records of this run, and keeps those of other roots (other lockfiles sharing the
   * folder); files of this run's roots that were not seen are dropped. Whole or not at all.
   */
  async save(): Promise<void> {
    const lines = [HEADER];
    for (const [key, record] of this.records) if (!this.fresh.has(key) && !this.roots.has(key.slice(0, key.indexOf('\0')))) lines.push(toLine(key, record));
    for (const [key, record] of this.fresh) lines.push(toLine(key, record));
    await writeFileAtomic(this.file, `${lines.join('\n')}\n`, { what: 'verify cache' });
  }

  /** A cache that does not read is no cache: it is started afresh (the files are read in full). */
  private load(text: string): void {
    const lines = text.split('\n');
    if (lines[0] !== HEADER) return;
    for (const line of lines.slice(1)) {
      if (line === '') continue;
      const entry = parseLine(line);
      if (entry) this.records.set(entry.key, entry.record);
    }
  }
}

/** Another user who can write the cache could make any bytes pass: refuse a folder or file others may write. */
function assertPrivate(path: string, stats: BigIntStats, what: string): void {
  const problem = getPrivacyProblem(stats);
  if (problem) throw new AiscError('CACHE_UNSAFE', `--cache: ${path}: the ${what} ${problem}`);
}

function toKey(job: HashJob): string {
  return `${job.root}\0${job.path}`;
}

function sameIdentity(record: FileIdentity, stats: BigIntStats): boolean {
  const now = toIdentity(stats);
  return record.dev === now.dev && record.ino === now.ino && record.size === now.size && record.mtimeNs === now.mtimeNs && record.ctimeNs === now.ctimeNs;
}

/** One JSON array a line; chunk digests, when recorded, come last (size, then their hex run together). */
function toLine(key: string, record: CacheRecord): string {
  const at = key.indexOf('\0');
  const fields: unknown[] = [key.slice(0, at), key.slice(at + 1), record.dev, record.ino, record.size, record.mtimeNs, record.ctimeNs, record.sha256 ?? null, record.format ?? null, record.inspection ?? null];
  if (record.chunks) fields.push(record.chunks.size, record.chunks.sha256.join(''));
  return JSON.stringify(fields);
}

function parseLine(line: string): { key: string; record: CacheRecord } | undefined {
  try {
    const [root, path, dev, ino, size, mtimeNs, ctimeNs, sha256, format, inspection, chunkSize, chunkHex] = JSON.parse(line) as unknown[];
    const digits = (value: unknown): value is string => typeof value === 'string' && /^\d{1,40}$/.test(value);
    if (typeof root !== 'string' || typeof path !== 'string' || !digits(dev) || !digits(ino) || !digits(mtimeNs) || !digits(ctimeNs)) return undefined;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
    const chunks = toChunks(chunkSize, chunkHex);
    if (chunks === null || (sha256 === null && !chunks) || (sha256 !== null && (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)))) return undefined;
    if (format !== null && !(CONTENT_FORMATS as readonly unknown[]).includes(format)) return undefined;
    if (inspection !== null && (typeof inspection !== 'object' || (inspection as { format?: unknown }).format !== format)) return undefined;
    const record: CacheRecord = { dev, ino, size, mtimeNs, ctimeNs, ...(sha256 !== null ? { sha256 } : {}), ...(chunks ? { chunks } : {}), ...(format !== null ? { format: toSharedFormat(format as ContentFormat) } : {}), ...(inspection !== null ? { inspection: inspection as Inspection } : {}) };
    return { key: `${root}\0${path}`, record };
  } catch {
    return undefined;
  }
}

/** A line's chunk fields: undefined when there are none, null when they do not read. */
function toChunks(size: unknown, hex: unknown): FileChunks | undefined | null {
  if (size === undefined && hex === undefined) return undefined;
  if (typeof size !== 'number' || !isChunkSize(size) || typeof hex !== 'string' || hex.length === 0 || !/^(?:[0-9a-f]{64})+$/.test(hex)) return null;
  return { size, sha256: Array.from({ length: hex.length / 64 }, (_, i) => hex.slice(i * 64, i * 64 + 64)) };
}
