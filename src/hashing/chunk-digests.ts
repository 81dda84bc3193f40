import { createHash, type Hash } from 'node:crypto';

/**
 * The SHA-256 of each `size`-byte chunk of a stream, fed the same buffers as the whole-file hash,
 * however they are sliced: each is cut where a chunk ends. Holds one hash state, never a chunk.
 */
export class ChunkDigests {
  private readonly digests: string[] = [];
  private hash: Hash = createHash('sha256');
  /** Bytes of the current chunk hashed so far. */
  private filled = 0;

  constructor(readonly size: number) {}

  update(data: Buffer): void {
    let at = 0;
    while (at < data.length) {
      const take = Math.min(data.length - at, this.size - this.filled);
      this.hash.update(at === 0 && take === data.length ? data : data.subarray(at, at + take));
      this.filled += take;
      at += take;
      if (this.filled === this.size) this.cut();
    }
  }

  /** Digests of the chunks complete so far (a download checks each as it completes). */
  get completed(): readonly string[] {
    return this.digests;
  }

  /** Every digest, the last chunk's too when it is short; none for no bytes. */
  end(): string[] {
    if (this.filled > 0) this.cut();
    return this.digests;
  }

  private cut(): void {
    this.digests.push(this.hash.digest('hex'));
    this.hash = createHash('sha256');
    this.filled = 0;
  }
}
