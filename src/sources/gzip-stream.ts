import { once } from 'node:events';
import { crc32, createInflateRaw, type InflateRaw } from 'node:zlib';
import { AiscError } from '../errors.js';

const FLAGS = { FHCRC: 0x02, FEXTRA: 0x04, FNAME: 0x08, FCOMMENT: 0x10, RESERVED: 0xe0 };
/** A gzip header with its optional name and comment is small; one that is not is not a header. */
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * Decompresses exactly one gzip member (RFC 1952) as it streams: its header parsed here, its
 * deflate data through zlib, its trailer's CRC-32 and length checked. Anything after the member
 * (a second member, which `gzip -d` and Python decompress and some readers ignore, or other bytes)
 * is ARCHIVE_TRAILING_DATA; a member that ends early or does not check out is ARCHIVE_INVALID.
 * `onData` sees the decompressed bytes; what it throws is thrown from write or end.
 */
export class GzipMember {
  private header: Buffer[] = [];
  private headerBytes = 0;
  private inflate?: InflateRaw;
  /** Settles when the inflater is done: its deflate stream ended (even before the input did), or it failed. */
  private finished: Promise<unknown> = Promise.resolve();
  private failure?: Error;
  /** The deflate stream has ended: later input is only counted (it is trailing data, or the trailer). */
  private ended = false;
  private crc = 0;
  private out = 0;
  /** Bytes given to the inflater (all of the input after the header), and the last 8 of them. */
  private fed = 0;
  private tail = Buffer.alloc(0);

  constructor(
    private readonly what: string,
    private readonly onData: (chunk: Buffer) => void,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    let body = chunk;
    if (!this.inflate) {
      this.header.push(chunk);
      this.headerBytes += chunk.length;
      const all = Buffer.concat(this.header, this.headerBytes);
      const length = this.parseHeader(all);
      if (length === undefined) return;
      this.header = [];
      this.start();
      body = all.subarray(length);
    }
    if (body.length === 0) return;
    this.fed += body.length;
    this.tail = Buffer.concat([this.tail, body.subarray(Math.max(0, body.length - 8))]).subarray(-8);
    const inflate = this.inflate as InflateRaw;
    if (this.ended) return;
    if (!inflate.write(body) && this.failure === undefined) await Promise.race([once(inflate, 'drain').catch(() => undefined), this.finished]);
    this.rethrow();
  }

  async end(): Promise<void> {
    if (!this.inflate) throw this.invalid(this.headerBytes === 0 ? 'an empty file' : 'the gzip header is cut off');
    const inflate = this.inflate;
    if (!this.ended) inflate.end();
    await this.finished;
    this.rethrow();
    // zlib counts the input its deflate stream used; the 8-byte trailer follows it, then nothing.
    const rest = this.fed - inflate.bytesWritten;
    if (rest < 8) throw this.invalid(`the gzip stream ends early (its ${8 - rest} last trailer bytes are missing)`);
    if (rest > 8) throw new AiscError('ARCHIVE_TRAILING_DATA', `${this.what}: ${rest - 8} bytes after the first gzip member (a second member or other data: gzip -d reads it as more of the archive, other readers ignore it); nothing was locked`);
    if (this.tail.readUInt32LE(0) !== this.crc >>> 0 || this.tail.readUInt32LE(4) !== this.out % 2 ** 32) throw this.invalid('the gzip trailer\'s CRC-32 or length does not match the data');
  }

  /** The header's length once it is all there, undefined while more is needed. */
  private parseHeader(bytes: Buffer): number | undefined {
    if (bytes.length >= 3 && (bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[2] !== 8)) throw this.invalid('not a gzip stream (bad magic or method)');
    if (bytes.length < 10) return undefined;
    const flags = bytes[3] as number;
    if ((flags & FLAGS.RESERVED) !== 0) throw this.invalid('the gzip header sets reserved flags');
    let at = 10;
    if (flags & FLAGS.FEXTRA) {
      if (bytes.length < at + 2) return this.more();
      at += 2 + bytes.readUInt16LE(at);
    }
    for (const flag of [FLAGS.FNAME, FLAGS.FCOMMENT]) {
      if (!(flags & flag)) continue;
      const nul = bytes.indexOf(0, at);
      if (nul === -1) return this.more();
      at = nul + 1;
    }
    if (flags & FLAGS.FHCRC) at += 2;
    return bytes.length < at ? this.more() : at;
  }

  private more(): undefined {
    if (this.headerBytes > MAX_HEADER_BYTES) throw this.invalid(`the gzip header is longer than ${MAX_HEADER_BYTES} bytes`);
    return undefined;
  }

  private start(): void {
    const inflate = createInflateRaw();
    inflate.on('data', (chunk: Buffer) => {
      if (this.failure !== undefined) return;
      this.crc = crc32(chunk, this.crc);
      this.out += chunk.length;
      try {
        this.onData(chunk);
      } catch (error) {
        this.failure = error instanceof Error ? error : new Error(String(error));
        inflate.destroy();
      }
    });
    inflate.on('error', (error: Error) => {
      this.failure ??= this.invalid(/unexpected end/i.test(error.message) ? 'the gzip stream ends early' : `not a readable gzip stream (${error.message})`);
    });
    this.finished = new Promise((resolve) => {
      inflate.once('end', resolve);
      inflate.once('close', resolve);
    }).then(() => (this.ended = true));
    this.inflate = inflate;
  }

  private rethrow(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private invalid(why: string): AiscError {
    return new AiscError('ARCHIVE_INVALID', `${this.what}: ${why}`);
  }
}
