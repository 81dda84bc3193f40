import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AiscError, errnoCode } from '../errors.js';
import { makeFolder, readBoundedBytes, removeDeadTemps, writeFileAtomicStream } from '../io/index.js';
import { compareCodePoints } from './canonical-json.js';
import { getPathProblem } from './paths.js';
import { CONTENT_FORMATS, type FileEntry, type ManifestRef } from './types.js';

/** An artifact with more files than this keeps its file list in a manifest beside the lockfile. */
export const MANIFEST_THRESHOLD = 1000;
export const MANIFEST_FOLDER = '.aisc/manifests';
const HEADER = '# aisc manifest v1: sha256 size path, one file a line, in code-point order of path\n';
/** v2 adds each file's format as told from its bytes (`-` when its bytes were not read). */
const HEADER_V2 = '# aisc manifest v2: sha256 size format path, one file a line, in code-point order of path\n';
/** v3 adds whether lock inspected all of each file's bytes (`no` for a Hub LFS file); written only when some file was not. */
const HEADER_V3 = '# aisc manifest v3: sha256 size format inspected path, one file a line, in code-point order of path\n';
/** Written in slices of about this many bytes: a million files never become one string. */
const WRITE_SLICE_BYTES = 1024 * 1024;

/** Reads a manifest, relative to the lockfile's folder, within `limit` bytes (the pinned size). */
export type ManifestReader = (relativePath: string, limit: number) => Promise<Buffer>;

export function toManifestPath(sha256: string): string {
  return `${MANIFEST_FOLDER}/${sha256}.txt`;
}

/**
 * Writes `files` (sorted) as a content-addressed manifest in `<lockfileFolder>/.aisc/manifests/`,
 * streamed in slices while it is hashed, through a temp file renamed to its digest: a manifest is
 * either whole under its name or not there. Returns what the lockfile pins.
 */
export async function writeManifest(lockfileFolder: string, files: readonly FileEntry[]): Promise<ManifestRef> {
  const folder = join(lockfileFolder, MANIFEST_FOLDER);
  await makeFolder(folder).catch((error: unknown) => {
    throw new AiscError('WRITE_FAILED', `${folder}: cannot create (${errnoCode(error) ?? String(error)})`, { cause: error });
  });
  await removeDeadTemps(folder, 'manifest');
  const hash = createHash('sha256');
  let bytes = 0;
  // Durable before the lockfile that pins it is renamed into place: no dangling pin after a crash.
  await writeFileAtomicStream(
    folder,
    'manifest',
    async (handle) => {
      const v3 = files.some((file) => file.inspected === false);
      const v2 = !v3 && files.some((file) => file.format !== undefined);
      let slice = v3 ? HEADER_V3 : v2 ? HEADER_V2 : HEADER;
      for (const file of files) {
        if (v3) slice += `${file.sha256} ${file.size} ${file.format ?? '-'} ${file.inspected === false ? 'no' : 'yes'} ${file.path}\n`;
        else slice += v2 ? `${file.sha256} ${file.size} ${file.format ?? '-'} ${file.path}\n` : `${file.sha256} ${file.size} ${file.path}\n`;
        if (slice.length >= WRITE_SLICE_BYTES) {
          bytes += await writeSlice(handle, hash, slice);
          slice = '';
        }
      }
      bytes += await writeSlice(handle, hash, slice);
      return `${hash.copy().digest('hex')}.txt`;
    },
    'a manifest',
  );
  return { sha256: hash.digest('hex'), files: files.length, bytes };
}

async function writeSlice(handle: FileHandle, hash: ReturnType<typeof createHash>, text: string): Promise<number> {
  const data = Buffer.from(text, 'utf8');
  hash.update(data);
  await handle.write(data);
  return data.length;
}

/** The working tree's reader: manifests beside the lockfile, each read within its pinned size. */
export function toManifestReader(lockfilePath: string): ManifestReader {
  return (relativePath, limit) => readBoundedBytes(join(dirname(lockfilePath), relativePath), { limit, what: 'manifest' });
}

/**
 * A manifest's files, checked against what the lockfile pins: the same SHA-256, byte count and
 * file count, every line well formed, every path safe, in strict code-point order (so no
 * duplicates). Any difference is the lockfile's problem: LOCKFILE_INVALID.
 */
export async function readManifest(reader: ManifestReader, ref: ManifestRef, where: string, list = true): Promise<FileEntry[]> {
  const path = toManifestPath(ref.sha256);
  let data: Buffer;
  try {
    data = await reader(path, ref.bytes);
  } catch (error) {
    const missing = error instanceof AiscError && (error.code === 'FILE_NOT_FOUND' || error.code === 'BASE_NOT_FOUND');
    throw new AiscError('LOCKFILE_INVALID', `${where}: its manifest ${path} ${missing ? 'is missing (commit .aisc/manifests with the lockfile)' : `cannot be read (${(error as Error).message})`}`, { cause: error });
  }
  const actual = createHash('sha256').update(data).digest('hex');
  if (data.length !== ref.bytes || actual !== ref.sha256) {
    throw new AiscError('LOCKFILE_INVALID', `${where}: its manifest ${path} is not the one pinned (expected ${ref.bytes} bytes with sha256 ${ref.sha256}, got ${data.length} bytes with sha256 ${actual})`);
  }
  // Without listing, only the pin is checked: a lock carries the manifest forward unchanged, and
  // every reader that lists it (verify, diff) checks each line.
  return list ? parseManifest(data, ref.files, `${where}: ${path}`) : [];
}

const SHA256 = /^[0-9a-f]{64}$/;
const SIZE = /^(0|[1-9][0-9]{0,15})$/;
const NEWLINE = 0x0a;
const SPACE = 0x20;

/**
 * Lines are cut from the bytes, each field decoded on its own: no string of the whole manifest
 * stays alive behind a million sliced substrings.
 */
function parseManifest(data: Buffer, count: number, where: string): FileEntry[] {
  const v3 = data.subarray(0, HEADER_V3.length).equals(Buffer.from(HEADER_V3, 'utf8'));
  const v2 = v3 || data.subarray(0, HEADER_V2.length).equals(Buffer.from(HEADER_V2, 'utf8'));
  const header = Buffer.from(v3 ? HEADER_V3 : v2 ? HEADER_V2 : HEADER, 'utf8');
  if (!data.subarray(0, header.length).equals(header)) throw new AiscError('LOCKFILE_INVALID', `${where}: expected an aisc manifest v1, v2 or v3 header`);
  const files: FileEntry[] = [];
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let at = header.length;
  let previous: string | undefined;
  while (at < data.length) {
    const line = files.length + 2;
    const end = data.indexOf(NEWLINE, at);
    if (end < 0) throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line} has no newline`);
    if (files.length === count) throw new AiscError('LOCKFILE_INVALID', `${where}: expected ${count} files, got more`);
    const first = data.indexOf(SPACE, at);
    const second = first < 0 || first > end ? -1 : data.indexOf(SPACE, first + 1);
    const third = !v2 || second < 0 || second > end ? second : data.indexOf(SPACE, second + 1);
    const fourth = !v3 || third < 0 || third > end ? third : data.indexOf(SPACE, third + 1);
    if (second < 0 || second > end || third < 0 || third > end || fourth < 0 || fourth > end) throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line} is not "sha256 size ${v2 ? 'format ' : ''}${v3 ? 'inspected ' : ''}path"`);
    const sha256 = data.toString('latin1', at, first);
    const size = data.toString('latin1', first + 1, second);
    const word = v2 ? data.toString('latin1', second + 1, third) : '-';
    // The shared constant, as the lockfile schema's enum: a million lines keep no copy of "json".
    const format = CONTENT_FORMATS.find((name) => name === word);
    if (word !== '-' && !format) throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line} has no known format`);
    const inspected = v3 ? data.toString('latin1', third + 1, fourth) : 'yes';
    if (inspected !== 'yes' && inspected !== 'no') throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line}: expected inspected yes or no, got ${JSON.stringify(inspected)}`);
    let path: string;
    try {
      path = utf8.decode(data.subarray(fourth + 1, end));
    } catch (error) {
      throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line}: the path is not UTF-8`, { cause: error });
    }
    const problem = !SHA256.test(sha256) ? 'has no sha256' : !SIZE.test(size) ? 'has no size' : getPathProblem(path);
    if (problem) throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line} ${problem}`);
    if (previous !== undefined && compareCodePoints(previous, path) >= 0) throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line}: ${JSON.stringify(path)} is out of order or repeated`);
    const bytes = Number(size);
    if (!Number.isSafeInteger(bytes)) throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line}: size ${size} is too large`);
    const file: FileEntry = format ? { path, size: bytes, sha256, format } : { path, size: bytes, sha256 };
    if (inspected === 'no') file.inspected = false;
    files.push(file);
    previous = path;
    at = end + 1;
  }
  if (files.length !== count) throw new AiscError('LOCKFILE_INVALID', `${where}: expected ${count} files, got ${files.length}`);
  return files;
}
