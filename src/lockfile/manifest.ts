import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AiscError, errnoCode } from '../errors.js';
import { makeFolder, readBoundedBytes, removeDeadTemps, writeFileAtomicStream } from '../io/index.js';
import { compareCodePoints } from './canonical-json.js';
import { getChunksProblem } from './chunks.js';
import { getPathProblem } from './paths.js';
import { CONTENT_FORMATS, type FileChunks, type FileEntry, type ManifestRef } from './types.js';

/** An artifact with more files than this keeps its file list in a manifest beside the lockfile. */
export const MANIFEST_THRESHOLD = 1000;
export const MANIFEST_FOLDER = '.aisc/manifests';
const HEADER = '# aisc manifest v1: sha256 size path, one file a line, in code-point order of path\n';
/** v2 adds each file's format as told from its bytes (`-` when its bytes were not read). */
const HEADER_V2 = '# aisc manifest v2: sha256 size format path, one file a line, in code-point order of path\n';
/** v3 adds whether lock inspected all of each file's bytes (`no` for a Hub LFS file); written only when some file was not. */
const HEADER_V3 = '# aisc manifest v3: sha256 size format inspected path, one file a line, in code-point order of path\n';
/** v4 adds each file's chunk digests (`-`, or the chunk size, `:` and the digests' hex run together); written only when some file has them. */
const HEADER_V4 = '# aisc manifest v4: sha256 size format inspected chunks path, one file a line, in code-point order of path\n';
const HEADERS = [HEADER, HEADER_V2, HEADER_V3, HEADER_V4];
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
      const version = getManifestVersion(files);
      let slice = HEADERS[version - 1] ?? HEADER;
      for (const file of files) {
        slice += toLine(file, version);
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

/** The oldest version that says everything of these files: lockfiles of small models keep v1 and v2. */
function getManifestVersion(files: readonly FileEntry[]): 1 | 2 | 3 | 4 {
  if (files.some((file) => file.chunks !== undefined)) return 4;
  if (files.some((file) => file.inspected === false)) return 3;
  return files.some((file) => file.format !== undefined) ? 2 : 1;
}

function toLine(file: FileEntry, version: 1 | 2 | 3 | 4): string {
  const fields = [file.sha256, String(file.size)];
  if (version >= 2) fields.push(file.format ?? '-');
  if (version >= 3) fields.push(file.inspected === false ? 'no' : 'yes');
  if (version >= 4) fields.push(file.chunks ? `${file.chunks.size}:${file.chunks.sha256.join('')}` : '-');
  fields.push(file.path);
  return `${fields.join(' ')}\n`;
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
const CHUNKS = /^([1-9][0-9]{0,9}):((?:[0-9a-f]{64})+)$/;
const SIZE = /^(0|[1-9][0-9]{0,15})$/;
const NEWLINE = 0x0a;
const SPACE = 0x20;

/**
 * Lines are cut from the bytes, each field decoded on its own: no string of the whole manifest
 * stays alive behind a million sliced substrings.
 */
function parseManifest(data: Buffer, count: number, where: string): FileEntry[] {
  const version = HEADERS.findIndex((text) => data.subarray(0, text.length).equals(Buffer.from(text, 'utf8'))) + 1;
  if (version === 0) throw new AiscError('LOCKFILE_INVALID', `${where}: expected an aisc manifest v1, v2, v3 or v4 header`);
  const names = ['sha256', 'size', 'format', 'inspected', 'chunks'].slice(0, version + 1);
  const files: FileEntry[] = [];
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let at = (HEADERS[version - 1] ?? '').length;
  let previous: string | undefined;
  const spaces: number[] = [];
  while (at < data.length) {
    const line = files.length + 2;
    const end = data.indexOf(NEWLINE, at);
    if (end < 0) throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line} has no newline`);
    if (files.length === count) throw new AiscError('LOCKFILE_INVALID', `${where}: expected ${count} files, got more`);
    // The fields before the path: the path itself may hold spaces.
    spaces.length = 0;
    for (let from = at; spaces.length < names.length; ) {
      const space = data.indexOf(SPACE, from);
      if (space < 0 || space > end) throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line} is not "${names.join(' ')} path"`);
      spaces.push(space);
      from = space + 1;
    }
    const field = (k: number): string => data.toString('latin1', k === 0 ? at : (spaces[k - 1] as number) + 1, spaces[k]);
    const sha256 = field(0);
    const size = field(1);
    const word = version >= 2 ? field(2) : '-';
    // The shared constant, as the lockfile schema's enum: a million lines keep no copy of "json".
    const format = CONTENT_FORMATS.find((name) => name === word);
    if (word !== '-' && !format) throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line} has no known format`);
    const inspected = version >= 3 ? field(3) : 'yes';
    if (inspected !== 'yes' && inspected !== 'no') throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line}: expected inspected yes or no, got ${JSON.stringify(inspected)}`);
    let path: string;
    try {
      path = utf8.decode(data.subarray((spaces[spaces.length - 1] as number) + 1, end));
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
    if (version >= 4) {
      const chunks = parseChunks(field(4), bytes);
      if (typeof chunks === 'string') throw new AiscError('LOCKFILE_INVALID', `${where}: line ${line}: ${chunks}`);
      if (chunks) file.chunks = chunks;
    }
    files.push(file);
    previous = path;
    at = end + 1;
  }
  if (files.length !== count) throw new AiscError('LOCKFILE_INVALID', `${where}: expected ${count} files, got ${files.length}`);
  return files;
}

/** A v4 line's chunks field: `-`, or `<chunk size>:<hex digests run together>` that cover the file exactly; a string says what is wrong. */
function parseChunks(text: string, size: number): FileChunks | undefined | string {
  if (text === '-') return undefined;
  const match = CHUNKS.exec(text);
  if (!match) return `expected chunks "-" or "<size>:<sha256 hex>...", got ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}`;
  const hex = match[2] ?? '';
  const chunks: FileChunks = { size: Number(match[1]), sha256: Array.from({ length: hex.length / 64 }, (_, i) => hex.slice(i * 64, i * 64 + 64)) };
  const problem = getChunksProblem(size, chunks);
  return problem ? `chunks: ${problem}` : chunks;
}
