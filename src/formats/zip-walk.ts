import type * as Fflate from 'fflate';
import { fflate } from './fflate.js';
import type { Inspection } from './inspection.js';

/** Where a member's bytes go: an inspector of its own. */
export interface ByteSink {
  feed(chunk: Buffer): void;
  end(): Inspection;
}
export type SinkFactory = (size: number | undefined, name: string) => ByteSink;

export interface ZipMember {
  /** The central directory's name (what PyTorch and numpy open); the local header's when none. */
  name: string;
  inspection: Inspection;
}

export interface ZipWalk {
  members: ZipMember[];
  /** Why some of it could not be read: unsafe, since a pickle may hide there. */
  opaque: string[];
}

const MAX_MEMBERS = 100_000;
/** A member that inflates past this is a bomb, not a checkpoint. */
const MAX_INFLATED_BYTES = 64 * 1024 ** 3;
const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const END64 = 0x06064b50;
const LOCATOR64 = 0x07064b50;
const DESCRIPTOR = Buffer.from([0x50, 0x4b, 0x07, 0x08]);
const MAX32 = 0xffffffff;

type State =
  | { t: 'header'; need: number; then: (b: Buffer) => void }
  | { t: 'data'; remaining: number }
  | { t: 'scan' }
  | { t: 'skip'; remaining: number }
  | { t: 'trailer' }
  | { t: 'stopped' };

interface Member {
  offset: number;
  localName: string;
  name?: string;
  method: number;
  bit3: boolean;
  zip64: boolean;
  csize: number;
  sink: ByteSink;
  inflater?: Fflate.Inflate;
  inflated: number;
  fed: number;
  inspection?: Inspection;
}

/**
 * Walks a zip as its bytes stream by, in one pass: every member's content goes to an inspector
 * whatever its name (read as leniently as PyTorch's miniz reads it: CRCs are not checked, a local
 * name that differs from the central one does not matter). Then the central directory must point
 * exactly at the members that were read, with the same sizes; anything else (a member hidden in
 * another's data, an entry in a gap, encryption, an unknown compression, bytes after the end)
 * is opaque, and so unsafe.
 */
export class ZipWalker {
  private state: State = { t: 'header', need: 4, then: (b) => this.onSignature(b) };
  private header: Buffer[] = [];
  private headerLength = 0;
  private pos = 0;
  private member: Member | undefined;
  private carry = Buffer.alloc(0);
  private readonly locals = new Map<number, Member>();
  private readonly members: Member[] = [];
  private centralStart: number | undefined;
  private centrals = 0;
  private ended = false;
  private readonly opaque: string[] = [];

  constructor(private readonly open: SinkFactory) {}

  feed(chunk: Buffer): void {
    let b = chunk;
    while (b.length > 0) {
      const state = this.state;
      switch (state.t) {
        case 'stopped':
          return;
        case 'trailer':
          this.stop(`bytes after the end of the zip, at byte ${this.pos}`);
          return;
        case 'skip': {
          const n = Math.min(state.remaining, b.length);
          state.remaining -= n;
          b = this.advance(b, n);
          if (state.remaining === 0) this.expectSignature();
          break;
        }
        case 'header': {
          const n = Math.min(state.need - this.headerLength, b.length);
          // Copied: the hash worker reuses its read buffer for the next chunk.
          this.header.push(Buffer.from(b.subarray(0, n)));
          this.headerLength += n;
          b = this.advance(b, n);
          if (this.headerLength === state.need) {
            const whole = Buffer.concat(this.header);
            this.header = [];
            this.headerLength = 0;
            state.then(whole);
          }
          break;
        }
        case 'data': {
          const n = Math.min(state.remaining, b.length);
          this.memberData(b.subarray(0, n));
          if (this.state.t === 'stopped') return;
          state.remaining -= n;
          b = this.advance(b, n);
          if (state.remaining === 0) this.afterData();
          break;
        }
        case 'scan':
          b = this.scan(b);
          break;
        default: {
          const never: never = state;
          return never;
        }
      }
    }
  }

  end(): ZipWalk {
    if (this.member) this.finishMember();
    if (!this.ended) this.stop(`the zip ends at byte ${this.pos} before its end-of-central-directory record`);
    const members = this.members.filter((m) => m.inspection).map((m) => ({ name: m.name ?? m.localName, inspection: m.inspection as Inspection }));
    return { members, opaque: this.opaque };
  }

  private advance(b: Buffer, n: number): Buffer {
    this.pos += n;
    return b.subarray(n);
  }

  private need(n: number, then: (b: Buffer) => void): void {
    if (this.state.t === 'stopped') return;
    this.state = { t: 'header', need: n, then };
  }

  private expectSignature(): void {
    this.need(4, (b) => this.onSignature(b));
  }

  private onSignature(b: Buffer): void {
    const at = this.pos - 4;
    switch (b.readUInt32LE(0)) {
      case LOCAL:
        if (this.centralStart !== undefined) return this.stop(`a member header at byte ${at}, after the central directory began`);
        return this.need(26, (h) => this.onLocal(at, h));
      case CENTRAL:
        this.centralStart ??= at;
        return this.need(42, (h) => this.onCentral(h));
      case END64:
        return this.need(8, (h) => (this.state = { t: 'skip', remaining: Number(h.readBigUInt64LE(0)) }));
      case LOCATOR64:
        return this.need(16, () => this.expectSignature());
      case END:
        return this.need(18, (h) => this.onEnd(at, h));
      default:
        return this.stop(`no zip record at byte ${at}`);
    }
  }

  private onLocal(offset: number, h: Buffer): void {
    if (this.members.length >= MAX_MEMBERS) return this.stop(`more than ${MAX_MEMBERS} members`);
    const flags = h.readUInt16LE(2);
    const method = h.readUInt16LE(4);
    let csize = h.readUInt32LE(14);
    let usize = h.readUInt32LE(18);
    const nameLength = h.readUInt16LE(22);
    const extraLength = h.readUInt16LE(24);
    this.need(nameLength + extraLength, (rest) => {
      const localName = rest.toString('utf8', 0, nameLength);
      const zip64 = readZip64(rest.subarray(nameLength), [usize === MAX32, csize === MAX32]);
      if (zip64) [usize = usize, csize = csize] = zip64;
      if (flags & 1) return this.stop(`member ${localName} is encrypted`);
      if (method !== 0 && method !== 8) return this.stop(`member ${localName} is compressed with method ${method}, which aisc does not open`);
      const bit3 = (flags & 8) !== 0;
      const sizeKnown = !bit3 || csize !== 0;
      const member: Member = { offset, localName, method, bit3, zip64: zip64 !== undefined, csize: sizeKnown ? csize : -1, sink: this.open(method === 0 && sizeKnown ? csize : usize || undefined, localName), inflated: 0, fed: 0 };
      if (method === 8) {
        member.inflater = new (fflate().Inflate)((data) => {
          member.inflated += data.length;
          if (member.inflated > MAX_INFLATED_BYTES) throw new Error(`inflates past ${MAX_INFLATED_BYTES} bytes`);
          member.sink.feed(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        });
      }
      this.member = member;
      this.locals.set(offset, member);
      this.members.push(member);
      if (!sizeKnown) this.state = { t: 'scan' };
      else if (csize === 0) this.afterData();
      else this.state = { t: 'data', remaining: csize };
    });
  }

  private memberData(chunk: Buffer): void {
    const member = this.member;
    if (!member || chunk.length === 0) return;
    member.fed += chunk.length;
    if (!member.inflater) return member.sink.feed(chunk);
    try {
      member.inflater.push(chunk);
    } catch (error) {
      this.stop(`member ${member.localName}: corrupt compressed data (${error instanceof Error ? error.message : String(error)})`);
    }
  }

  /** A member without sizes (data descriptor): its data ends where a descriptor counts exactly the bytes so far. */
  private scan(chunk: Buffer): Buffer {
    const member = this.member as Member;
    const window = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const base = this.pos - this.carry.length;
    this.carry = Buffer.alloc(0);
    let from = 0;
    for (;;) {
      const i = window.indexOf(DESCRIPTOR, from);
      if (i < 0 || i + 24 > window.length) {
        const keep = i < 0 ? Math.min(window.length, 23) : window.length - i;
        const feedTo = window.length - keep;
        this.memberData(window.subarray(0, feedTo));
        this.carry = Buffer.from(window.subarray(feedTo));
        this.pos = base + window.length;
        return Buffer.alloc(0);
      }
      const size = member.fed + i;
      const length = matchDescriptor(window, i, size, member);
      if (length === 0) {
        from = i + 1;
        continue;
      }
      this.memberData(window.subarray(0, i));
      if (this.state.t === 'stopped') return Buffer.alloc(0);
      member.csize = size;
      this.pos = base + i + length;
      this.finishMember();
      this.expectSignature();
      return window.subarray(i + length);
    }
  }

  private afterData(): void {
    if (this.state.t === 'stopped') return;
    const member = this.member as Member;
    if (!member.bit3) {
      this.finishMember();
      return this.expectSignature();
    }
    // A descriptor after sized data: its signature is optional; zip64 sizes are 8 bytes each.
    const sizes = member.zip64 ? 16 : 8;
    this.need(4, (first) => {
      const rest = first.equals(DESCRIPTOR) ? 4 + sizes : sizes;
      this.need(rest, () => {
        this.finishMember();
        this.expectSignature();
      });
    });
  }

  private finishMember(): void {
    const member = this.member;
    if (!member) return;
    this.member = undefined;
    try {
      member.inflater?.push(new Uint8Array(0), true);
    } catch (error) {
      this.stop(`member ${member.localName}: corrupt compressed data (${error instanceof Error ? error.message : String(error)})`);
    }
    member.inspection = member.sink.end();
  }

  private onCentral(h: Buffer): void {
    const flags = h.readUInt16LE(4);
    const method = h.readUInt16LE(6);
    let csize = h.readUInt32LE(16);
    const usize = h.readUInt32LE(20);
    const nameLength = h.readUInt16LE(24);
    const extraLength = h.readUInt16LE(26);
    const commentLength = h.readUInt16LE(28);
    let offset = h.readUInt32LE(38);
    this.centrals++;
    this.need(nameLength + extraLength + commentLength, (rest) => {
      const name = rest.toString('utf8', 0, nameLength);
      const zip64 = readZip64(rest.subarray(nameLength, nameLength + extraLength), [usize === MAX32, csize === MAX32, offset === MAX32]);
      if (zip64) [, csize = csize, offset = offset] = zip64;
      const local = this.locals.get(offset);
      if (!local) return this.stop(`the central directory names ${name} at byte ${offset}, where no member was read`);
      if (flags & 1) return this.stop(`member ${name} is encrypted`);
      if (local.csize !== csize || local.method !== method) return this.stop(`member ${name}: the central directory says ${csize} bytes by method ${method}, the member holds ${local.csize} by method ${local.method}`);
      local.name = name;
      this.expectSignature();
    });
  }

  private onEnd(at: number, h: Buffer): void {
    const entries = h.readUInt16LE(6);
    const cdOffset = h.readUInt32LE(12);
    const commentLength = h.readUInt16LE(16);
    if (entries !== 0xffff && entries !== this.centrals) return this.stop(`the end record counts ${entries} entries, the central directory has ${this.centrals}`);
    if (cdOffset !== MAX32 && cdOffset !== (this.centralStart ?? at)) return this.stop(`the end record puts the central directory at byte ${cdOffset}, it is at byte ${this.centralStart ?? at}`);
    this.ended = true;
    if (commentLength === 0) this.state = { t: 'trailer' };
    else this.need(commentLength, () => (this.state = { t: 'trailer' }));
  }

  private stop(reason: string): void {
    if (this.state.t === 'stopped') return;
    this.opaque.push(reason);
    this.state = { t: 'stopped' };
    if (this.member) {
      const member = this.member;
      this.member = undefined;
      member.inspection = member.sink.end();
    }
  }
}

/** The zip64 extra field's values, in order, for each field that was 0xFFFFFFFF. */
function readZip64(extra: Buffer, present: boolean[]): (number | undefined)[] | undefined {
  let at = 0;
  while (at + 4 <= extra.length) {
    const id = extra.readUInt16LE(at);
    const size = extra.readUInt16LE(at + 2);
    if (id === 0x0001) {
      const values: (number | undefined)[] = [];
      let p = at + 4;
      for (const wanted of present) {
        if (!wanted || p + 8 > at + 4 + size) {
          values.push(undefined);
          continue;
        }
        values.push(Number(extra.readBigUInt64LE(p)));
        p += 8;
      }
      return values;
    }
    at += 4 + size;
  }
  return undefined;
}

/** The descriptor's length when the one at `i` counts exactly `size` bytes (16, or 24 for zip64), else 0. */
function matchDescriptor(w: Buffer, i: number, size: number, member: Member): number {
  const stored = member.method === 0;
  const short = w.readUInt32LE(i + 8) === size && (!stored || w.readUInt32LE(i + 12) === size);
  const long = Number(w.readBigUInt64LE(i + 8)) === size && (!stored || Number(w.readBigUInt64LE(i + 16)) === size);
  if (member.zip64) return long ? 24 : short ? 16 : 0;
  return short ? 16 : long ? 24 : 0;
}
