import { homedir } from 'node:os';
import { statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { AiscError, errnoCode } from '../errors.js';
import { toSharedFormat, type ContentFormat, type Inspection } from '../formats/inspection.js';
import { makeFolderSync, writeFileAtomic } from '../io/index.js';
import { getPrivacyProblem } from '../io/private.js';
import { isChunkSize } from '../lockfile/chunks.js';
import { CONTENT_FORMATS, type FileChunks } from '../lockfile/types.js';
import { toIdentity } from './hash-file.js';
import { appendToRecord, MAX_RECORD_BYTES, readRecordFile, RECORD_HEADER, type RecordText } from './record-file.js';
import type { FileIdentity } from './types.js';

const RECORD_FILE = 'hashed.v1.jsonl';
/** Files remembered, the newest kept when the record is compacted: each is at least two chunks (128 MiB by default). */
const MAX_RECORDS = 10_000;
/** A compaction keeps at most this many bytes of lines, however many entries that is. */
const KEEP_BYTES = MAX_RECORD_BYTES / 4;
/** Appends go on until the record holds twice MAX_RECORDS lines or half MAX_RECORD_BYTES: then one save compacts it. */
const COMPACT_LINES = 2 * MAX_RECORDS;
const COMPACT_BYTES = MAX_RECORD_BYTES / 2;

/** What aisc hashed of one file in the single pass that brought or checked its bytes. */
export interface HashedFile {
  sha256: string;
  size: number;
  chunks: FileChunks;
  format?: ContentFormat;
  inspection?: Inspection;
}

interface Entry extends HashedFile, FileIdentity {}

/** `$XDG_CACHE_HOME/aisc`, else `~/.cache/aisc` (the aisc OCI cache's parent too). */
export function getAiscCacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'aisc');
}

/**
 * The hash record (`~/.cache/aisc/hashed.v1.jsonl`): each big file `aisc fetch` hashed while its
 * bytes streamed in (or found in place and read), by its identity (device, inode, size, mtime,
 * ctime), with its SHA-256, chunk digests and inspection, all from that one pass. `aisc lock` of
 * the same file, unchanged, takes them from here instead of reading it again. Only this user may
 * write it: a record is believed, so a record others can write is not used (nor written).
 *
 * Several fetches may run at once (two models pulled in parallel on one CI runner): each save
 * appends only its own new lines (src/hashing/record-file.ts), so no writer's entries replace
 * another's, and a reader takes the last line for a file. The file is rewritten (compacted to the
 * newest entries, temp file and rename) only once it has grown well past MAX_RECORDS lines
 * (COMPACT_LINES) or half the most that is read of it (COMPACT_BYTES).
 */
export class HashRecord {
  private readonly entries = new Map<string, Entry>();
  /** What this process added, by key: all a save writes. */
  private readonly added = new Map<string, Entry>();
  /** Lines the file held when loaded, and whether a save may append to it (else it compacts). */
  private loadedLines = 0;
  private appendable = true;

  private constructor(private readonly file: string) {}

  /** The record, or why it cannot be used (a folder or file that is not this user's alone). */
  static async open(env: NodeJS.ProcessEnv, create: boolean): Promise<HashRecord | { problem: string }> {
    const dir = getAiscCacheDir(env);
    try {
      if (create) makeFolderSync(dir, 0o700);
      const folder = statSync(dir, { bigint: true, throwIfNoEntry: false });
      if (!folder) return new HashRecord(join(dir, RECORD_FILE));
      const unsafe = folder.isDirectory() ? getPrivacyProblem(folder) : 'is not a folder';
      if (unsafe) return { problem: `${dir} ${unsafe}` };
      const record = new HashRecord(join(dir, RECORD_FILE));
      const read = await readRecordFile(record.file);
      if (read && 'problem' in read) return read;
      if (read) record.load(read);
      return record;
    } catch (error) {
      return { problem: `${dir}: cannot be used (${errnoCode(error) ?? (error as Error).message})` };
    }
  }

  /** What was hashed of the file `stats` describes, if it is the same file now (same identity). */
  lookup(stats: BigIntStats): HashedFile | undefined {
    const now = toIdentity(stats);
    const entry = this.entries.get(toKey(now));
    if (!entry || entry.size !== now.size || entry.mtimeNs !== now.mtimeNs || entry.ctimeNs !== now.ctimeNs) return undefined;
    const { sha256, size, chunks, format, inspection } = entry;
    return { sha256, size, chunks, ...(format ? { format } : {}), ...(inspection ? { inspection } : {}) };
  }

  /** Remembers `hashed` for the file at `path` as it is now (its bytes were just written or read). */
  add(path: string, hashed: HashedFile): void {
    const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
    if (!stats?.isFile() || Number(stats.size) !== hashed.size) return;
    const identity = toIdentity(stats);
    const entry = { ...identity, ...hashed };
    putLast(this.entries, entry);
    putLast(this.added, entry);
  }

  /**
   * Appends what this process added (one write, see appendToRecord); compacts the record when it
   * has grown past COMPACT_LINES or COMPACT_BYTES, or when it cannot be appended to (no header:
   * not a record aisc wrote, or past MAX_RECORD_BYTES).
   */
  async save(): Promise<void> {
    if (this.added.size === 0) return;
    if (!this.appendable) return this.compact();
    const size = await appendToRecord(this.file, [...this.added.values()].map(toLine));
    if (size > COMPACT_BYTES || this.loadedLines + this.added.size > COMPACT_LINES) await this.compact();
  }

  /**
   * Rewrites the record as its newest MAX_RECORDS entries (at most KEEP_BYTES), one line each,
   * from the file as it is now (every writer's appends so far) plus this process's. What a
   * compaction racing an append can lose: lines another process appends between this read and the
   * rename go to the file being replaced, and are gone; of two compactions at once, the one renamed
   * last wins, and lines appended between their two reads are gone too. A lost line is an
   * optimisation lost (that file is read again by the next lock), never a verdict: an entry only
   * ever spares the read of a file whose identity is unchanged since it was hashed.
   */
  private async compact(): Promise<void> {
    const read = await readRecordFile(this.file);
    if (read && 'problem' in read) throw new AiscError('WRITE_FAILED', read.problem);
    const entries = new Map<string, Entry>();
    for (const line of read?.lines ?? []) {
      const entry = line === '' ? undefined : parseLine(line);
      if (entry) putLast(entries, entry);
    }
    // This process's lines are in the file (appended), unless it was not appendable or a racing compaction dropped them.
    for (const entry of this.added.values()) if (!entries.has(toKey(entry))) putLast(entries, entry);
    const kept: string[] = [];
    let bytes = 0;
    for (const entry of [...entries.values()].reverse()) {
      const line = toLine(entry);
      bytes += Buffer.byteLength(line) + 1;
      if (kept.length === MAX_RECORDS || bytes > KEEP_BYTES) break;
      kept.push(line);
    }
    await writeFileAtomic(this.file, `${[RECORD_HEADER, ...kept.reverse()].join('\n')}\n`, { what: 'hash record' });
  }

  /** A record that does not read is no record: the files are read again (and the next save compacts it). */
  private load({ lines, appendable }: RecordText): void {
    this.appendable = appendable;
    for (const line of lines) {
      if (line === '') continue;
      this.loadedLines++;
      const entry = parseLine(line);
      if (entry) putLast(this.entries, entry);
    }
  }
}

/** The last line for a file is its entry, and the newest: the oldest go first when the record is compacted. */
function putLast(entries: Map<string, Entry>, entry: Entry): void {
  const key = toKey(entry);
  entries.delete(key);
  entries.set(key, entry);
}

function toKey(identity: FileIdentity): string {
  return `${identity.dev}:${identity.ino}`;
}

function toLine(entry: Entry): string {
  return JSON.stringify([entry.dev, entry.ino, entry.size, entry.mtimeNs, entry.ctimeNs, entry.sha256, entry.chunks.size, entry.chunks.sha256.join(''), entry.format ?? null, entry.inspection ?? null]);
}

function parseLine(line: string): Entry | undefined {
  try {
    const [dev, ino, size, mtimeNs, ctimeNs, sha256, chunkSize, hex, format, inspection] = JSON.parse(line) as unknown[];
    const digits = (value: unknown): value is string => typeof value === 'string' && /^\d{1,40}$/.test(value);
    if (!digits(dev) || !digits(ino) || !digits(mtimeNs) || !digits(ctimeNs) || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256) || typeof chunkSize !== 'number' || !isChunkSize(chunkSize)) return undefined;
    if (typeof hex !== 'string' || hex.length !== Math.ceil(size / chunkSize) * 64 || !/^[0-9a-f]*$/.test(hex)) return undefined;
    if (format !== null && !(CONTENT_FORMATS as readonly unknown[]).includes(format)) return undefined;
    if (inspection !== null && (typeof inspection !== 'object' || (inspection as { format?: unknown }).format !== format)) return undefined;
    const chunks = { size: chunkSize, sha256: Array.from({ length: hex.length / 64 }, (_, i) => hex.slice(i * 64, i * 64 + 64)) };
    return { dev, ino, size, mtimeNs, ctimeNs, sha256, chunks, ...(format !== null ? { format: toSharedFormat(format as ContentFormat) } : {}), ...(inspection !== null ? { inspection: inspection as Inspection } : {}) };
  } catch {
    return undefined;
  }
}
