import { createHash } from 'node:crypto';
import { ChunkDigests } from '../hashing/chunk-digests.js';

/**
 * SHA-256 and, when asked, the git blob SHA-1 and the chunk digests of a stream (each from the
 * same bytes as they come), with its length checked as it comes.
 */
export class ContentHasher {
  private sha256 = createHash('sha256');
  private sha1?: ReturnType<typeof createHash>;
  private chunks?: ChunkDigests;
  size = 0;

  /** `chunkSize`: also the SHA-256 of each chunk of that many bytes (lockfile.md, "Chunk digests"). */
  constructor(
    private readonly expectedSize: number,
    private readonly gitBlob: boolean,
    private readonly chunkSize?: number,
  ) {
    this.reset();
  }

  /** Starts over (a server that answered a Range request with the whole file). */
  reset(): void {
    this.sha256 = createHash('sha256');
    this.sha1 = this.gitBlob ? createHash('sha1').update(`blob ${this.expectedSize}\0`) : undefined;
    this.chunks = this.chunkSize === undefined ? undefined : new ChunkDigests(this.chunkSize);
    this.size = 0;
  }

  /** False once more bytes came than expected (the caller stops reading). */
  update(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.expectedSize) return false;
    this.sha256.update(chunk);
    this.sha1?.update(chunk);
    this.chunks?.update(chunk);
    return true;
  }

  /** Digests of the chunks complete so far: a download checks each against the locked one as it completes. */
  get completedChunks(): readonly string[] {
    return this.chunks?.completed ?? [];
  }

  digest(): { sha256: string; gitOid?: string; chunks?: string[] } {
    return { sha256: this.sha256.digest('hex'), ...(this.sha1 ? { gitOid: this.sha1.digest('hex') } : {}), ...(this.chunks ? { chunks: this.chunks.end() } : {}) };
  }
}
