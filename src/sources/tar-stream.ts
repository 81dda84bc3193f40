import { AiscError } from '../errors.js';
import { BLOCK, checksumHolds, cString, decode, describeMeta, isZero, parsePax, readSize, toKind, type TarMember } from './tar-header.js';

/** A pax header, a GNU long name or link: metadata, held whole, so bounded. */
const MAX_META_BYTES = 1024 * 1024;

export type { TarMember } from './tar-header.js';

export interface TarHandlers {
  member(member: TarMember): void;
  data(chunk: Buffer): void;
  memberEnd(): void;
}

/**
 * Reads a tar as its bytes stream by, strictly, so that what it lists is what any extractor would
 * extract: header checksums must hold; pax records must be well formed and their `size` must not
 * contradict the header's; a GNU long name or pax header applies to the next member only; the
 * archive ends at its first zero block, and anything but zeros after it is ARCHIVE_TRAILING_DATA
 * (GNU tar and Python stop there, node-tar and `tar -i` read on: readers would disagree). A cut-off
 * archive is ARCHIVE_INVALID, a header readers would read differently ARCHIVE_UNSAFE.
 */
export class TarReader {
  private readonly block = Buffer.alloc(BLOCK);
  private filled = 0;
  /** Bytes of the tar stream consumed so far. */
  private position = 0;
  private state: 'header' | 'body' | 'padding' | 'end' = 'header';
  private remaining = 0;
  private padding = 0;
  private members = 0;
  private current?: TarMember;
  /** The body of a metadata entry being collected, and what it is. */
  private meta?: { flag: string; chunks: Buffer[]; bytes: number };
  private pending: { path?: string; linkpath?: string; size?: number; from: string[] } = { from: [] };

  constructor(
    private readonly what: string,
    private readonly handlers: TarHandlers,
  ) {}

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'end') {
        this.checkZeros(chunk.subarray(at));
        this.position += chunk.length - at;
        return;
      }
      if (this.state === 'body') {
        const n = Math.min(this.remaining, chunk.length - at);
        this.take(chunk.subarray(at, at + n));
        at += n;
        this.position += n;
        this.remaining -= n;
        if (this.remaining === 0) this.finishBody();
        continue;
      }
      if (this.state === 'padding') {
        const n = Math.min(this.padding, chunk.length - at);
        at += n;
        this.position += n;
        this.padding -= n;
        if (this.padding === 0) this.state = 'header';
        continue;
      }
      const n = Math.min(BLOCK - this.filled, chunk.length - at);
      chunk.copy(this.block, this.filled, at, at + n);
      this.filled += n;
      at += n;
      this.position += n;
      if (this.filled === BLOCK) {
        this.filled = 0;
        this.onHeader(this.block, this.position - BLOCK);
      }
    }
  }

  /** The stream ended: it must have ended between members, after at least one. */
  end(): void {
    if (this.state === 'body' || this.state === 'padding') throw this.invalid(`the archive ends inside the member ${JSON.stringify(this.current?.path ?? this.meta?.flag ?? '')} (at byte ${this.position})`);
    if (this.filled > 0) throw this.invalid(`the archive ends inside a header (at byte ${this.position})`);
    if (this.pending.from.length > 0) throw this.invalid(`the archive ends after a ${this.pending.from.join(' and ')} that names no member`);
    if (this.members === 0) throw this.invalid(`the archive holds no member (${this.position} bytes${this.state === 'end' ? ', all zero' : ''})`);
  }

  private onHeader(header: Buffer, offset: number): void {
    if (isZero(header)) {
      if (this.pending.from.length > 0) throw this.invalid(`a ${this.pending.from.join(' and ')} at the end of the archive names no member`);
      this.state = 'end';
      return;
    }
    if (!checksumHolds(header)) throw this.invalid(`the header at byte ${offset} has a checksum that does not hold`);
    const flag = String.fromCharCode(header[156] ?? 0);
    const stored = readSize(header.subarray(124, 136));
    if (stored === undefined) throw this.invalid(`the header at byte ${offset} has no readable size`);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') return this.startMeta(flag, stored, offset);
    const path = this.pending.path ?? this.readName(header, offset);
    let size = stored;
    if (this.pending.size !== undefined) {
      // A header size other than the pax one: a reader that ignores pax reads other bytes as members.
      if (stored !== 0 && stored !== this.pending.size) throw this.unsafe(path, `has a pax size ${this.pending.size} where its header says ${stored}: readers that ignore pax records would read other members`);
      size = this.pending.size;
    }
    const kind = toKind(flag, path);
    if (flag === '0' && path.endsWith('/')) throw this.unsafe(path, 'is a regular file whose name ends in "/": some readers make it a folder, others a file');
    if (kind !== 'file' && kind !== 'other' && size !== 0) throw this.unsafe(path, `is a ${kind} with ${size} bytes of content: readers disagree whether they follow`);
    const linkpath = this.pending.linkpath ?? (kind === 'symlink' || kind === 'hardlink' ? cString(header, 157, 100, () => this.unsafe(path, 'has a link target that is not UTF-8')) : undefined);
    this.pending = { from: [] };
    this.current = { path, kind, flag, size, ...(linkpath !== undefined ? { linkpath } : {}) };
    this.members++;
    this.handlers.member(this.current);
    this.startBody(kind === 'file' ? size : 0);
  }

  /** ustar: `prefix/name`; the old GNU and v7 headers have no prefix, and must hold nothing there. */
  private readName(header: Buffer, offset: number): string {
    const name = cString(header, 0, 100, () => this.invalid(`the header at byte ${offset} has a name that is not UTF-8`));
    const ustar = header.toString('latin1', 257, 265) === 'ustar\u000000';
    if (!ustar) {
      if (!isZero(header.subarray(345, 500))) throw this.invalid(`the header at byte ${offset} is not ustar but holds a name prefix: readers disagree on the name of ${JSON.stringify(name)}`);
      return name;
    }
    const prefix = cString(header, 345, 155, () => this.invalid(`the header at byte ${offset} has a name prefix that is not UTF-8`));
    return prefix === '' ? name : `${prefix}/${name}`;
  }

  private startMeta(flag: string, size: number, offset: number): void {
    if (size > MAX_META_BYTES) throw this.invalid(`the ${describeMeta(flag)} at byte ${offset} is larger than ${MAX_META_BYTES} bytes`);
    if (this.pending.from.includes(describeMeta(flag))) throw this.invalid(`two ${describeMeta(flag)}s in a row at byte ${offset}: readers disagree which applies`);
    this.meta = { flag, chunks: [], bytes: 0 };
    this.current = undefined;
    this.startBody(size);
  }

  private startBody(size: number): void {
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.state = size > 0 ? 'body' : 'header';
    if (size === 0) this.finishBody();
  }

  private take(chunk: Buffer): void {
    if (this.meta) {
      this.meta.chunks.push(Buffer.from(chunk));
      this.meta.bytes += chunk.length;
    } else if (this.current?.kind === 'file') this.handlers.data(chunk);
  }

  private finishBody(): void {
    this.state = this.padding > 0 ? 'padding' : 'header';
    const meta = this.meta;
    if (!meta) {
      this.handlers.memberEnd();
      return;
    }
    this.meta = undefined;
    const body = Buffer.concat(meta.chunks, meta.bytes);
    if (meta.flag === 'L' || meta.flag === 'K') {
      const text = decode(body.subarray(0, body.indexOf(0) === -1 ? body.length : body.indexOf(0)), () => this.invalid(`a GNU long ${meta.flag === 'L' ? 'name' : 'link'} is not UTF-8`));
      if (meta.flag === 'L') this.pending.path = text;
      else this.pending.linkpath = text;
    } else {
      const records = parsePax(body, () => this.invalid(`a malformed pax record (at byte ${this.position - body.length})`));
      if (meta.flag === 'g') {
        // A global header naming a path or size is applied by some readers to every member, by others to none.
        const named = ['path', 'linkpath', 'size'].filter((key) => records.has(key));
        if (named.length > 0) throw this.unsafe('(global pax header)', `sets ${named.join(', ')} for every member after it: readers disagree`);
      } else {
        const sparse = [...records.keys()].find((key) => key.startsWith('GNU.sparse.'));
        if (sparse !== undefined) throw this.unsafe('(pax header)', `describes a sparse file (${sparse}), which aisc does not read`);
        const path = records.get('path');
        const linkpath = records.get('linkpath');
        const size = records.get('size');
        if (path !== undefined) this.pending.path = path;
        if (linkpath !== undefined) this.pending.linkpath = linkpath;
        if (size !== undefined) {
          if (!/^\d{1,16}$/.test(size) || !Number.isSafeInteger(Number(size))) throw this.invalid(`a pax size ${JSON.stringify(size)} that is not a byte count`);
          this.pending.size = Number(size);
        }
      }
    }
    if (meta.flag !== 'g') this.pending.from.push(describeMeta(meta.flag));
  }

  private checkZeros(rest: Buffer): void {
    const at = rest.findIndex((byte) => byte !== 0);
    if (at !== -1) throw new AiscError('ARCHIVE_TRAILING_DATA', `${this.what}: bytes after the end of the tar archive (from byte ${this.position + at}): readers that go on past its end (node-tar, tar -i) would extract members that others never see; nothing was locked`);
  }

  private invalid(why: string): AiscError {
    return new AiscError('ARCHIVE_INVALID', `${this.what}: not a readable tar archive: ${why}`);
  }

  private unsafe(path: string, why: string): AiscError {
    return new AiscError('ARCHIVE_UNSAFE', `${this.what}: member ${JSON.stringify(path)} ${why}; nothing was locked`);
  }
}
