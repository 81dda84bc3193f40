import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { AiscError, errnoCode, isAiscError } from '../errors.js';

/** Codes of the neutral IO layer; each domain (lockfile, policy, bundle) names its own on top. */
export type ReadErrorCode = 'FILE_NOT_FOUND' | 'FILE_UNREADABLE' | 'FILE_TOO_LARGE' | 'TEXT_INVALID';

export interface ReadOptions {
  /** The most bytes to accept: untrusted input is read bounded. */
  limit: number;
  /** What the file is, for messages: 'lockfile', 'policy', 'Sigstore bundle', … */
  what: string;
}

/**
 * A regular file's bytes, refusing more than `limit`. The buffer is sized by what stat says (plus
 * one byte to notice growth), never by the limit, so a generous limit costs nothing. Read with
 * synchronous calls: these are files read whole before their command can go on (a lockfile, a
 * policy, a bundle), and five trips through libuv's thread pool cost a verify ~4 ms of its start
 * (measured on a 3.5 KB lockfile) where the calls themselves take microseconds.
 */
export function readBoundedBytes(path: string, options: ReadOptions): Promise<Buffer> {
  // A throw in the executor rejects: callers see the same promise as before.
  return new Promise((resolve) => resolve(readBoundedBytesNow(path, options)));
}

function readBoundedBytesNow(path: string, { limit, what }: ReadOptions): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO put where a file was expected is refused below, not waited on.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') throw new AiscError('FILE_NOT_FOUND', `${path}: no such ${what}`, { cause: error });
    throw new AiscError('FILE_UNREADABLE', `${path}: cannot open the ${what} (${code ?? String(error)})`, { cause: error });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new AiscError('FILE_UNREADABLE', `${path}: expected the ${what} to be a regular file`);
    if (stat.size > limit) throw new AiscError('FILE_TOO_LARGE', `${path}: expected a ${what} of at most ${limit} bytes, got ${stat.size}`);
    const buffer = Buffer.alloc(Math.min(limit, stat.size) + 1);
    let length = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) throw new AiscError('FILE_UNREADABLE', `${path}: the ${what} grew while it was read`);
    }
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof AiscError) throw error;
    throw new AiscError('FILE_UNREADABLE', `${path}: cannot read the ${what} (${errnoCode(error) ?? String(error)})`, { cause: error });
  } finally {
    closeSync(fd);
  }
}

/** Bounded bytes decoded as strict UTF-8. */
export async function readBoundedText(path: string, options: ReadOptions): Promise<string> {
  return decodeUtf8(await readBoundedBytes(path, options), path, options.what);
}

export function decodeUtf8(bytes: Uint8Array, where: string, what = 'file'): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new AiscError('TEXT_INVALID', `${where}: expected the ${what} to be UTF-8 text`, { cause: error });
  }
}

/** The same error with a domain's code in place of a neutral one (message, cause and problems kept). */
export function recode<C extends string>(error: unknown, codes: Partial<Record<string, C>>): unknown {
  if (!isAiscError(error)) return error;
  const code = Object.hasOwn(codes, error.code) ? codes[error.code] : undefined;
  if (code === undefined) return error;
  return new AiscError(code, error.message, { cause: error.cause ?? error, details: error.details, problems: error.problems });
}
