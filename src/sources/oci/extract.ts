import { closeSync, constants, createReadStream, openSync, unlinkSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import { rmdir, unlink } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { AiscError } from '../../errors.js';
import { confine, renameInto } from '../../io/index.js';
import type { FileEntry } from '../../lockfile/types.js';
import { ContentHasher } from '../content-hash.js';
import { downloadFile, type ContentCheck, type Expected } from '../download.js';
import type { ContentGate } from '../restore.js';
import { copyVerified, ensureBlob, prepareFile, toWriteError, type OciPlace } from './blobs.js';
import type { OciClient } from './client.js';
import type { Descriptor } from './manifest.js';

export interface Extraction {
  client: OciClient;
  layer: Descriptor;
  folder: string;
  /** The folder as a confined place: every file is written through it. */
  place: OciPlace;
  files: readonly FileEntry[];
  gate: ContentGate;
  layout?: string;
  what: string;
  onBytes: (n: number) => void;
}

/**
 * A tar layer: its blob downloaded whole and checked against its digest before anything is
 * written (into the layout, or beside the folder and removed after); then each member that is a
 * locked file streams into a partial beside its place, hashed and judged, renamed on a match. A
 * link member lands as a copy of its target's bytes. Returns each locked path the layer held,
 * with its failure if it has one.
 */
export async function extractLayer(options: Extraction): Promise<Map<string, AiscError<string> | undefined>> {
  const { layer, what } = options;
  const hex = layer.digest.slice('sha256:'.length);
  const staged = options.layout === undefined ? await confine(options.place.root, `${options.place.base}.aisc-layers/${hex}`) : undefined;
  const staging = staged === undefined ? undefined : dirname(staged);
  const blob = staged ?? (await ensureBlob(options.client, options.layout ?? '', layer, what, options.onBytes));
  try {
    if (staged !== undefined) {
      const expected: Expected = { size: layer.size, sha256: hex };
      await downloadFile({ dest: staged, partial: `${staged}.aisc-download`, root: options.place.root, expected, what, onBytes: options.onBytes, request: (from) => options.client.blob(layer.digest, from) });
    }
    return await extractMembers(blob, options);
  } finally {
    if (staging !== undefined) {
      await unlink(blob).catch(() => undefined);
      await rmdir(staging).catch(() => undefined);
    }
  }
}

async function extractMembers(blob: string, options: Extraction): Promise<Map<string, AiscError<string> | undefined>> {
  const locked = new Map(options.files.map((file) => [file.path, file]));
  const results = new Map<string, AiscError<string> | undefined>();
  const links = new Map<string, string>();
  // Every folder a locked file needs, made before the first byte: a link on the way refuses that file alone.
  const blocked = new Map<string, AiscError<string>>();
  const places = new Map<string, string>();
  for (const path of locked.keys()) {
    await prepareFile(options.place, path).then(
      (dest) => void places.set(path, dest),
      (error: unknown) => void blocked.set(path, toWriteError(path, error)),
    );
  }
  const parser = new Parser({ strict: true });
  let failure: Error | undefined;
  parser.on('warn', (code: string, message: string) => (failure ??= new Error(`${code}: ${message}`)));
  parser.on('error', (error: Error) => (failure ??= error));
  const settled: Promise<void>[] = [];
  parser.on('entry', (entry: ReadEntry) => {
    const path = normalizeMember(entry.path);
    const file = locked.get(path);
    if (!file || results.has(path)) {
      entry.resume();
      return;
    }
    const refused = blocked.get(path);
    if (refused || entry.type === 'SymbolicLink' || entry.type === 'Link') {
      if (!refused) links.set(path, entry.type === 'Link' ? normalizeMember(entry.linkpath ?? '') : posix.normalize(posix.join(posix.dirname(path), entry.linkpath ?? '')));
      results.set(path, refused);
      entry.resume();
      return;
    }
    const dest = places.get(path) ?? join(options.folder, ...path.split('/'));
    const partial = `${dest}.aisc-download`;
    const hasher = new ContentHasher(file.size, false);
    const check = options.gate(path, file.size);
    let fd: number;
    try {
      // Created exclusively and never through a link: whatever was planted at the partial's name goes first.
      try {
        unlinkSync(partial);
      } catch {
        // Nothing there.
      }
      fd = openSync(partial, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    } catch (error) {
      results.set(path, toWriteError(path, error));
      entry.resume();
      return;
    }
    results.set(path, undefined);
    let tooLong = false;
    entry.on('data', (chunk: Buffer) => {
      if (tooLong || !hasher.update(chunk)) {
        tooLong = true;
        return;
      }
      check.feed(chunk);
      writeSync(fd, chunk);
    });
    entry.on('end', () => {
      closeSync(fd);
      settled.push(settleMember(path, partial, dest, file, hasher, tooLong, check, options, results));
    });
  });
  try {
    for await (const chunk of createReadStream(blob, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      parser.write(chunk);
      if (failure) break;
    }
    if (!failure) {
      const ended = once(parser, 'end');
      parser.end();
      await ended;
    }
  } catch (error) {
    failure ??= error instanceof Error ? error : new Error(String(error));
  }
  await Promise.all(settled);
  if (failure) throw new AiscError('ARCHIVE_INVALID', `${options.what}: not a readable tar layer (${failure.message})`);
  for (const [path, target] of links) {
    const file = locked.get(path);
    if (!file) continue;
    try {
      const dest = await prepareFile(options.place, path);
      await copyVerified(join(options.folder, ...target.split('/')), dest, { size: file.size, sha256: file.sha256 }, options.gate(path, file.size), `${options.what}: ${path}`, options.place.root);
    } catch (error) {
      results.set(path, toWriteError(path, error));
    }
  }
  return results;
}

async function settleMember(path: string, partial: string, dest: string, file: FileEntry, hasher: ContentHasher, tooLong: boolean, check: ContentCheck, options: Extraction, results: Map<string, AiscError<string> | undefined>): Promise<void> {
  const what = options.what;
  if (results.get(path) !== undefined) {
    await unlink(partial).catch(() => undefined);
    return;
  }
  const sha256 = hasher.digest().sha256;
  if (tooLong || hasher.size !== file.size || sha256 !== file.sha256) {
    await unlink(partial).catch(() => undefined);
    results.set(path, new AiscError('CONTENT_MISMATCH', `${what}: ${path}: the member is not what is locked (SHA-256 ${sha256}, locked ${file.sha256}); nothing was placed`));
    return;
  }
  try {
    check.verify();
    await renameInto(partial, dest, options.place.root);
  } catch (error) {
    await unlink(partial).catch(() => undefined);
    results.set(path, toWriteError(path, error));
  }
}

function normalizeMember(path: string): string {
  let p = path.replace(/\/+$/, '');
  while (p.startsWith('./')) p = p.slice(2);
  return p;
}
