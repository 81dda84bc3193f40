import type { ByteSink, SinkFactory, ZipWalk } from './zip-walk.js';

const BLOCK = 512;
const MAX_MEMBERS = 100_000;
/** Regular files ('0', NUL, contiguous '7'): their content is inspected; other entries are metadata. */
const FILE_TYPES = new Set([0x30, 0x00, 0x37]);

/**
 * Walks a tar as its bytes stream by (PyTorch's oldest format is a tar holding a pickle): each
 * header's checksum must hold, each regular member's content goes to an inspector, pax `size`
 * records are honoured. A header that does not check out is opaque, and so unsafe.
 */
export class TarWalker {
  private block = Buffer.alloc(BLOCK);
  private filled = 0;
  private pos = 0;
  private remaining = 0;
  private padding = 0;
  private sink: ByteSink | undefined;
  private name = '';
  private paxSize: number | undefined;
  private pax: Buffer[] | undefined;
  private stopped = false;
  private done = false;
  private readonly result: ZipWalk = { members: [], opaque: [] };

  constructor(private readonly open: SinkFactory) {}

  feed(chunk: Buffer): void {
    let b = chunk;
    while (b.length > 0 && !this.stopped && !this.done) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, b.length);
        const data = b.subarray(0, n);
        this.sink?.feed(data);
        this.pax?.push(Buffer.from(data));
        this.remaining -= n;
        this.pos += n;
        b = b.subarray(n);
        if (this.remaining === 0) this.finishMember();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, b.length);
        this.padding -= n;
        this.pos += n;
        b = b.subarray(n);
        continue;
      }
      const n = Math.min(BLOCK - this.filled, b.length);
      b.copy(this.block, this.filled, 0, n);
      this.filled += n;
      this.pos += n;
      b = b.subarray(n);
      if (this.filled === BLOCK) {
        this.filled = 0;
        this.onHeader(this.block);
      }
    }
  }

  end(): ZipWalk {
    if (this.sink) this.finishMember();
    if (!this.done && !this.stopped && (this.filled > 0 || this.remaining > 0)) this.result.opaque.push(`the tar ends inside a member, at byte ${this.pos}`);
    return this.result;
  }

  private onHeader(h: Buffer): void {
    if (h.every((byte) => byte === 0)) {
      this.done = true;
      return;
    }
    const at = this.pos - BLOCK;
    const stored = parseOctal(h.subarray(148, 156));
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
    if (stored !== sum) return this.stop(`a tar header at byte ${at} whose checksum does not hold`);
    if (this.result.members.length >= MAX_MEMBERS) return this.stop(`more than ${MAX_MEMBERS} members`);
    const type = h[156] as number;
    const size = this.paxSize ?? parseSize(h.subarray(124, 136));
    this.paxSize = undefined;
    if (size === undefined) return this.stop(`a tar header at byte ${at} with no readable size`);
    const prefix = h.toString('utf8', 345, 500).replace(/\0.*$/s, '');
    const base = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    this.name = prefix ? `${prefix}/${base}` : base;
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === 0x78) this.pax = [];
    else if (FILE_TYPES.has(type)) this.sink = this.open(size, this.name);
    if (size === 0) this.finishMember();
  }

  private finishMember(): void {
    if (this.pax) {
      const match = /(?:^|\n)\d+ size=(\d+)\n/.exec(Buffer.concat(this.pax).toString('utf8'));
      this.paxSize = match ? Number(match[1]) : undefined;
      this.pax = undefined;
    }
    if (this.sink) {
      this.result.members.push({ name: this.name, inspection: this.sink.end() });
      this.sink = undefined;
    }
  }

  private stop(reason: string): void {
    this.result.opaque.push(reason);
    this.stopped = true;
  }
}

function parseOctal(field: Buffer): number {
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : -1;
}

/** Octal, or base-256 (high bit set) for members of 8 GiB and more. */
function parseSize(field: Buffer): number | undefined {
  if (((field[0] as number) & 0x80) !== 0) {
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] as number);
    return Number.isSafeInteger(value) ? value : undefined;
  }
  const value = parseOctal(field);
  return value < 0 ? undefined : value;
}
