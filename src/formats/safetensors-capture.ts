/** The safetensors reference implementation refuses headers over 100 MB; so do we. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

/** What a hash worker keeps of a safetensors file: its header's bytes, as they were hashed. */
export type SafetensorsCapture = { header: Uint8Array } | { problem: string };

/**
 * Collects a safetensors header from the chunks a hash worker reads anyway: the 8-byte
 * little-endian length, then that many bytes. The facts are parsed from exactly the bytes that
 * were hashed, never from a second read of the file.
 */
export class SafetensorsHeaderCapture {
  private readonly prefix = Buffer.alloc(8);
  private header: Buffer | undefined;
  private offset = 0;
  private problem: string | undefined;

  constructor(private readonly fileSize: number) {
    if (fileSize < 8) this.problem = `expected an 8-byte header length, got a ${fileSize}-byte file`;
  }

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && this.problem === undefined) {
      if (this.offset < 8) {
        const n = chunk.copy(this.prefix, this.offset, at, at + 8 - this.offset);
        this.offset += n;
        at += n;
        if (this.offset === 8) this.start();
        continue;
      }
      const header = this.header;
      if (!header || this.offset >= 8 + header.length) return;
      const n = chunk.copy(header, this.offset - 8, at, at + (8 + header.length - this.offset));
      this.offset += n;
      at += n;
    }
  }

  private start(): void {
    const length = this.prefix.readBigUInt64LE(0);
    const limit = Math.min(MAX_SAFETENSORS_HEADER_BYTES, this.fileSize - 8);
    if (length > BigInt(limit)) this.problem = `expected a header of at most ${limit} bytes, got ${length}`;
    else this.header = Buffer.alloc(Number(length));
  }

  /** The header is whole, or cannot be: no later byte matters. */
  get settled(): boolean {
    return this.problem !== undefined || (this.header !== undefined && this.offset >= 8 + this.header.length);
  }

  result(): SafetensorsCapture {
    if (this.problem !== undefined) return { problem: this.problem };
    if (!this.header || this.offset < 8 + this.header.length) return { problem: 'header is truncated' };
    return { header: this.header };
  }
}

/**
 * A safetensors header without the weights, through `read(start, end)` (a Range request, a file
 * read): its 8-byte length first, then exactly that many bytes, within the reference limits.
 */
export async function readSafetensorsHeader(size: number, read: (start: number, end: number) => Promise<Buffer>): Promise<SafetensorsCapture> {
  const capture = new SafetensorsHeaderCapture(size);
  if (size < 8) return capture.result();
  const prefix = await read(0, 8);
  capture.feed(prefix);
  if (prefix.length < 8) return capture.result();
  const length = prefix.readBigUInt64LE(0);
  if (length > BigInt(Math.min(MAX_SAFETENSORS_HEADER_BYTES, size - 8))) return capture.result();
  capture.feed(await read(8, 8 + Number(length)));
  return capture.result();
}
