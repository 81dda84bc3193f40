import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { AiscError, errnoCode } from '../errors.js';
import { getPrivacyProblem } from '../io/private.js';

/** The first line of every hash record file; a file without it holds no entries. */
export const RECORD_HEADER = '{"aiscHashed":1}';
/** The most of the record read: past this it reads as empty, and the next save compacts it. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** What a reader got: the whole lines the file held when opened (a line still being appended is left out). */
export interface RecordText {
  lines: string[];
  /** Whether the file can be appended to: its header is there, or it is empty (the next append writes it). */
  appendable: boolean;
}

/**
 * The record's lines, undefined when there is none yet, or why it may not be used. Opened without
 * following a link and judged by what is open: a file others can write is not believed. Bytes
 * appended while it is read are left for the next reader (never "grew while read": writers append
 * all the time); a last line without its newline is one being written and is not read.
 */
export async function readRecordFile(file: string): Promise<RecordText | { problem: string } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    if (errnoCode(error) === 'ELOOP') return { problem: `${file} is not a regular file` };
    throw error;
  }
  try {
    const stats = await handle.stat({ bigint: true });
    const problem = stats.isFile() ? getPrivacyProblem(stats) : 'is not a regular file';
    if (problem) return { problem: `${file} ${problem}` };
    if (stats.size === 0n) return { lines: [], appendable: true };
    if (stats.size > BigInt(MAX_RECORD_BYTES)) return { lines: [], appendable: false };
    const bytes = await readUpTo(handle, Number(stats.size));
    const text = decodeWholeLines(bytes);
    const lines = text?.split('\n') ?? [];
    if (lines[0] !== RECORD_HEADER) return { lines: [], appendable: false };
    return { lines: lines.slice(1), appendable: true };
  } finally {
    await handle.close();
  }
}

/**
 * Adds `lines` at the end of the record with ONE write() on a descriptor opened O_APPEND: the
 * kernel puts each write whole at the end of the file as it is then, so lines of writers in other
 * processes never interleave with these nor overwrite them (on a local file system; NFS does not
 * promise O_APPEND). An empty file gets the header first. The text starts with a newline, so a
 * line a killed writer left half-written ends there (and is skipped) instead of swallowing the
 * first of these. Returns the file's size after the write, everyone's appends included.
 */
export async function appendToRecord(file: string, lines: readonly string[]): Promise<number> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
    const stats = await handle.stat({ bigint: true });
    const problem = stats.isFile() ? getPrivacyProblem(stats) : 'is not a regular file';
    if (problem) throw new AiscError('WRITE_FAILED', `${file} ${problem}`);
    const bytes = Buffer.from(`${stats.size === 0n ? RECORD_HEADER : ''}\n${lines.join('\n')}\n`);
    // filehandle.write with a position of null is one write(2) (libuv does not loop on a short write).
    const { bytesWritten } = await handle.write(bytes, 0, bytes.length, null);
    if (bytesWritten !== bytes.length) throw new AiscError('WRITE_FAILED', `${file}: ${bytesWritten} of ${bytes.length} bytes of the hash record written (disk full?)`);
    return Number((await handle.stat()).size);
  } catch (error) {
    if (error instanceof AiscError) throw error;
    throw new AiscError('WRITE_FAILED', `${file}: cannot write the hash record (${errnoCode(error) ?? String(error)})`, { cause: error });
  } finally {
    await handle?.close();
  }
}

async function readUpTo(handle: FileHandle, size: number): Promise<Buffer> {
  const buffer = Buffer.alloc(size);
  let length = 0;
  while (length < size) {
    const { bytesRead } = await handle.read(buffer, length, size - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return buffer.subarray(0, length);
}

/** The text up to the last newline, or undefined when that is not UTF-8 (no record aisc wrote). */
function decodeWholeLines(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1));
  } catch {
    return undefined;
  }
}
