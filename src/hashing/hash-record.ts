import { homedir } from 'node:os';
import { lstatSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../errors.js';
import { toSharedFormat, type ContentFormat, type Inspection } from '../formats/inspection.js';
import { makeFolderSync, readBoundedText, writeFileAtomic } from '../io/index.js';
import { getPrivacyProblem } from '../io/private.js';
import { isChunkSize } from '../lockfile/chunks.js';
import { CONTENT_FORMATS, type FileChunks } from '../lockfile/types.js';
import { toIdentity } from './hash-file.js';
import type { FileIdentity } from './types.js';

const RECORD_FILE = 'hashed.v1.jsonl';
const HEADER = '{"aiscHashed":1}';
const MAX_RECORD_BYTES = 256 * 1024 * 1024;
/** Files remembered, the newest kept: each is at least two chunks (128 MiB by default). */
const MAX_RECORDS = 10_000;

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
 */
export class HashRecord {
  private readonly entries = new Map<string, Entry>();
  private changed = false;

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
      const existing = lstatSync(record.file, { bigint: true, throwIfNoEntry: false });
      if (!existing) return record;
      const problem = existing.isFile() ? getPrivacyProblem(existing) : 'is not a regular file';
      if (problem) return { problem: `${record.file} ${problem}` };
      record.load(await readBoundedText(record.file, { limit: MAX_RECORD_BYTES, what: 'hash record' }));
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
    const key = toKey(identity);
    // Newest last: the oldest go first when the record is full.
    this.entries.delete(key);
    this.entries.set(key, { ...identity, ...hashed });
    this.changed = true;
  }

  /** Writes the record whole (temp file and rename), the newest MAX_RECORDS entries. */
  async save(): Promise<void> {
    if (!this.changed) return;
    const lines = [HEADER, ...[...this.entries.values()].slice(-MAX_RECORDS).map(toLine)];
    await writeFileAtomic(this.file, `${lines.join('\n')}\n`, { what: 'hash record' });
  }

  /** A record that does not read is no record: the files are read again. */
  private load(text: string): void {
    const lines = text.split('\n');
    if (lines[0] !== HEADER) return;
    for (const line of lines.slice(1)) {
      const entry = line === '' ? undefined : parseLine(line);
      if (entry) this.entries.set(toKey(entry), entry);
    }
  }
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
