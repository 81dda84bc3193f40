import type { AiscError } from '../errors.js';

/** One member as every reader that matters (GNU tar, Python's tarfile, node-tar) would name it. */
export interface TarMember {
  /** The name as stored (pax path, GNU long name, or ustar prefix/name). */
  path: string;
  kind: 'file' | 'directory' | 'symlink' | 'hardlink' | 'device' | 'fifo' | 'other';
  /** The type flag as stored, for messages. */
  flag: string;
  size: number;
  linkpath?: string;
}

/** The fields of a tar header and a pax header's records, read strictly (see TarReader). */

export const BLOCK = 512;

export function describeMeta(flag: string): string {
  if (flag === 'L') return 'GNU long name';
  if (flag === 'K') return 'GNU long link';
  return flag === 'g' ? 'global pax header' : 'pax header';
}

export function toKind(flag: string, path: string): TarMember['kind'] {
  switch (flag) {
    case '\0':
      // A v7 file whose name ends in '/' is a folder, to every reader.
      return path.endsWith('/') ? 'directory' : 'file';
    case '0':
    case '7':
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
    case '4':
      return 'device';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return 'other';
  }
}

/** `<length> <key>=<value>\n` records, each length counting the whole record, exactly. */
export function parsePax(body: Buffer, bad: () => AiscError): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  // Trailing NUL padding inside the declared size is tolerated (some writers pad).
  let end = body.length;
  while (end > 0 && body[end - 1] === 0) end--;
  while (at < end) {
    const space = body.indexOf(0x20, at);
    const lengthText = space === -1 ? '' : body.toString('latin1', at, space);
    if (!/^[1-9]\d{0,7}$/.test(lengthText)) throw bad();
    const length = Number(lengthText);
    if (at + length > end || body[at + length - 1] !== 0x0a) throw bad();
    const record = decode(body.subarray(space + 1, at + length - 1), bad);
    const equals = record.indexOf('=');
    if (equals <= 0) throw bad();
    records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

export function checksumHolds(header: Buffer): boolean {
  const stored = parseOctal(header.subarray(148, 156));
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (header[i] as number);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // GNU tar and Python accept the signed sum some old writers stored, as well as the unsigned one.
  return stored === unsigned || stored === signed;
}

/** Octal, NUL- or space-terminated, or base-256 (high bit set) for sizes of 8 GiB and more. */
export function readSize(field: Buffer): number | undefined {
  const first = field[0] as number;
  if (first === 0xff) return undefined;
  if ((first & 0x80) !== 0) {
    let value = first & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] as number);
    return Number.isSafeInteger(value) ? value : undefined;
  }
  return parseOctal(field);
}

function parseOctal(field: Buffer): number | undefined {
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

export function cString(buffer: Buffer, start: number, length: number, bad: () => AiscError): string {
  const field = buffer.subarray(start, start + length);
  const nul = field.indexOf(0);
  return decode(nul === -1 ? field : field.subarray(0, nul), bad);
}

export function decode(bytes: Buffer, bad: () => AiscError): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw bad();
  }
}

export function isZero(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}
