import { getChunkCount, getChunkRange } from '../lockfile/chunks.js';
import type { AnyHashResult, FileIdentity, HashJob } from './types.js';

/** How many chunk ranges the pool spreads a job over its threads: 0 for a job read whole by one. */
export function getSpreadParts(job: HashJob, size: number): number {
  if (!job.chunks?.spread || job.chunks.whole || job.range || job.expectedSize === undefined) return 0;
  const parts = getChunkCount(size, job.chunks.size);
  return parts > 1 ? parts : 0;
}

/** The job one thread runs for chunk `chunk` of a spread job: only the first chunk is inspected. */
export function toPartJob(job: HashJob, chunk: number): HashJob {
  const chunkSize = job.chunks?.size ?? 0;
  const range = getChunkRange(chunk, chunkSize, job.expectedSize ?? 0);
  return { ...job, range, inspect: job.inspect === true && chunk === 0 };
}

/**
 * The results of one spread job's chunks, joined into the file's result as they arrive in any
 * order: its chunk digests in order, the first chunk's inspection, and a failure if any chunk
 * failed. Every range must have been read from the same file as it was (device, inode, size and
 * times alike at every open and close): chunks of two versions of a file never pass as one.
 */
export class SpreadJoin {
  private readonly digests: string[];
  private remaining: number;
  private identity: FileIdentity | undefined;
  private changed = false;
  private failure: AnyHashResult | undefined;
  private first: AnyHashResult | undefined;

  constructor(
    private readonly job: HashJob,
    parts: number,
  ) {
    this.digests = new Array<string>(parts);
    this.remaining = parts;
  }

  /** Whether a chunk already failed: the chunks not yet started need not be read. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Adds chunk `chunk`'s result (undefined: not read, another failed); the joined result once every chunk is in. */
  add(chunk: number, result: AnyHashResult | undefined): AnyHashResult | undefined {
    this.remaining--;
    if (result && !result.ok) this.failure ??= result;
    else if (result?.ok) {
      this.digests[chunk] = result.chunks?.[0] ?? '';
      if (chunk === 0) this.first = result;
      if (!result.identity || (this.identity && !isSameIdentity(this.identity, result.identity))) this.changed = true;
      this.identity ??= result.identity;
    }
    if (this.remaining > 0) return undefined;
    if (this.failure) return this.failure;
    const size = this.job.expectedSize ?? 0;
    if (this.changed || !this.identity) return { ok: false, code: 'FILE_CHANGED', message: 'changed while its chunks were read (they were not all read from the same unchanged file)', size };
    const first = this.first;
    const seen = first?.ok ? { ...(first.format ? { format: first.format } : {}), ...(first.inspection ? { inspection: first.inspection } : {}) } : {};
    return { ok: true, chunks: this.digests, size, ...seen, ...(this.job.identify ? { identity: this.identity } : {}) };
  }
}

function isSameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}
