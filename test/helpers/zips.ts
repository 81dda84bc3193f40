import { crc32 } from 'node:zlib';

export interface ZipEntry {
  name: string;
  data: Buffer;
  /** The name written in the local header when it should differ from the central directory's. */
  localName?: string;
  /** Write a wrong CRC in both headers (PyTorch's reader does not check it). */
  badCrc?: boolean;
  /** Sizes 0 in the local header and a PK\x07\x08 data descriptor after the data, as torch.save writes. */
  descriptor?: boolean;
  /** General purpose flags to add (1: encrypted). */
  flags?: number;
  /** Compression method to claim (default 0, stored). */
  method?: number;
}

/**
 * A stored zip written byte by byte, so that each field can be made to lie the way a hostile
 * checkpoint does. `extraCentral` adds central entries that point at arbitrary offsets.
 */
export function writeZip(entries: ZipEntry[], options: { extraCentral?: { name: string; offset: number; size: number }[]; truncate?: number } = {}): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const crc = entry.badCrc ? 0xdeadbeef : crc32(entry.data);
    const localName = Buffer.from(entry.localName ?? entry.name, 'utf8');
    const name = Buffer.from(entry.name, 'utf8');
    const flags = (entry.flags ?? 0) | (entry.descriptor ? 8 : 0) | 0x800;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(entry.method ?? 0, 8);
    local.writeUInt32LE(entry.descriptor ? 0 : crc, 14);
    local.writeUInt32LE(entry.descriptor ? 0 : entry.data.length, 18);
    local.writeUInt32LE(entry.descriptor ? 0 : entry.data.length, 22);
    local.writeUInt16LE(localName.length, 26);
    const descriptor = Buffer.alloc(entry.descriptor ? 16 : 0);
    if (entry.descriptor) {
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(crc, 4);
      descriptor.writeUInt32LE(entry.data.length, 8);
      descriptor.writeUInt32LE(entry.data.length, 12);
    }
    parts.push(local, localName, entry.data, descriptor);
    central.push(centralEntry(name, offset, entry.data.length, crc, flags, entry.method ?? 0));
    offset += local.length + localName.length + entry.data.length + descriptor.length;
  }
  for (const extra of options.extraCentral ?? []) central.push(centralEntry(Buffer.from(extra.name), extra.offset, extra.size, 0, 0x800, 0));
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length, 8);
  end.writeUInt16LE(central.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  const zip = Buffer.concat([...parts, cd, end]);
  return options.truncate === undefined ? zip : zip.subarray(0, options.truncate);
}

function centralEntry(name: Buffer, offset: number, size: number, crc: number, flags: number, method: number): Buffer {
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(20, 6);
  header.writeUInt16LE(flags, 8);
  header.writeUInt16LE(method, 10);
  header.writeUInt32LE(crc, 16);
  header.writeUInt32LE(size, 20);
  header.writeUInt32LE(size, 24);
  header.writeUInt16LE(name.length, 28);
  header.writeUInt32LE(offset, 42);
  return Buffer.concat([header, name]);
}

/** The local header `writeZip` writes for a stored member, to hide one inside another member's data. */
export function localHeader(name: string, data: Buffer): Buffer {
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc32(data), 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(n.length, 26);
  return Buffer.concat([local, n, data]);
}
