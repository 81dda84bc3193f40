import { createHash } from 'node:crypto';

/** SHA-256 and, when asked, the git blob SHA-1 of a stream, with its length checked as it comes. */
export class ContentHasher {
  private sha256 = createHash('sha256');
  private sha1?: ReturnType<typeof createHash>;
  size = 0;

  constructor(
    private readonly expectedSize: number,
    private readonly gitBlob: boolean,
  ) {
    this.reset();
  }

  /** Starts over (a server that answered a Range request with the whole file). */
  reset(): void {
    this.sha256 = createHash('sha256');
    this.sha1 = this.gitBlob ? createHash('sha1').update(`blob ${this.expectedSize}\0`) : undefined;
    this.size = 0;
  }

  /** False once more bytes came than expected (the caller stops reading). */
  update(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.expectedSize) return false;
    this.sha256.update(chunk);
    this.sha1?.update(chunk);
    return true;
  }

  digest(): { sha256: string; gitOid?: string } {
    return { sha256: this.sha256.digest('hex'), ...(this.sha1 ? { gitOid: this.sha1.digest('hex') } : {}) };
  }
}
