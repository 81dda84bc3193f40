import { createReadStream, closeSync, openSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import { lstat, mkdir, rename, rmdir, unlink } from 'node:fs/promises';
import { posix, join, dirname } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { AiscError, errnoCode } from '../../errors.js';
import { makeFolder, withFileLock } from '../../io/index.js';
import type { FileArtifact, FileEntry, OciSource } from '../../lockfile/types.js';
import { ContentHasher } from '../content-hash.js';
import { downloadFile, type ContentCheck, type Expected } from '../download.js';
import type { Network } from '../network.js';
import { holdsLocked, type ContentGate, type RestorePlan, type Task } from '../restore.js';
import { OciClient } from './client.js';
import { getOciFolder } from './folder.js';
import { writeLayout, blobPath } from './layout.js';
import { getLayerShape, parseDocument, type Descriptor, type OciDocument } from './manifest.js';
import { toOciOrigin } from './reference.js';
import { MAX_CONFIG_BYTES } from './resolve.js';

export interface OciRestoreContext {
  name: string;
  artifact: FileArtifact;
  source: OciSource;
  lockfile: string;
  env: NodeJS.ProcessEnv;
  network: Network;
  gate: ContentGate;
  /** --oci-layout DIR: every blob also lands in this OCI image layout. */
  ociLayout?: string;
}

/** The pinned manifest as fetched again (its digest checked), and which layer each locked file comes from. */
interface Pinned {
  client: OciClient;
  bytes: Buffer;
  document: Extract<OciDocument, { kind: 'manifest' }>;
  /** A one-file layer by its file's path, or the tar layer a member is in (known once extracted). */
  rawByPath: Map<string, Descriptor>;
  tars: Descriptor[];
}

/**
 * An OCI artifact into its folder, files laid out by their paths: the manifest is fetched by its
 * locked digest (checked against the bytes); a one-file layer's blob streams into a partial file
 * beside its place, hashed and judged by the content gate, renamed only on a match; a tar layer's
 * blob is downloaded whole (digest checked) before any member is written, then each locked member
 * is hashed, judged and renamed into place. With --oci-layout, every blob lands in that layout
 * first (and the files are copied from it), then index.json names the manifest.
 */
export async function planOci(context: OciRestoreContext): Promise<RestorePlan> {
  const { name, artifact, source, gate } = context;
  const folder = getOciFolder(source, context.lockfile, context.env);
  const what = `${name}: ${toOciOrigin(source)}@${source.digest}`;
  let loading: Promise<Pinned> | undefined;
  const load = (): Promise<Pinned> => (loading ??= loadPinned(context, what));
  const extractions = new Map<string, Promise<Map<string, AiscError<string> | undefined>>>();
  const layout = context.ociLayout;
  const tarMembers = (): FileEntry[] => artifact.files;

  const tasks: Task[] = artifact.files.map((file): Task => {
    const dest = join(folder, ...file.path.split('/'));
    const expected: Expected = { size: file.size, sha256: file.sha256 };
    const check = (already?: string): ContentCheck => gate(file.path, file.size, already);
    return {
      artifact: name,
      what: `${name}: ${file.path}`,
      expected,
      present: dest,
      check,
      fetch: async (onBytes) => {
        const pinned = await load();
        await prepareFolder(folder, file.path);
        const raw = pinned.rawByPath.get(file.path);
        if (raw) {
          if (layout !== undefined) {
            await ensureBlob(pinned.client, layout, raw, `${what}: blob ${raw.digest}`, onBytes);
            await copyVerified(blobPath(layout, raw.digest), dest, expected, check(), `${name}: ${file.path}`);
            return;
          }
          await withFileLock(`${dest}.aisc.lock`, {}, async () => {
            if (await holdsLocked(dest, expected, check(dest))) return;
            await downloadFile({ dest, partial: `${dest}.aisc-download`, expected, what: `${name}: ${file.path}`, onBytes, check, request: (from) => pinned.client.blob(raw.digest, from) });
          });
          return;
        }
        // A member of a tar layer: every tar layer is extracted (once) until one held it.
        for (const layer of pinned.tars) {
          let extraction = extractions.get(layer.digest);
          if (!extraction) {
            extraction = extractLayer({ client: pinned.client, layer, folder, files: tarMembers(), gate, layout, what: `${what}: layer ${layer.digest}`, onBytes });
            extractions.set(layer.digest, extraction);
          }
          const results = await extraction;
          if (!results.has(file.path)) continue;
          const failure = results.get(file.path);
          if (failure) throw failure;
          return;
        }
        throw new AiscError('CONTENT_MISMATCH', `${name}: ${file.path} is in no layer of ${source.digest}; the manifest is not what was locked`);
      },
    };
  });
  if (layout !== undefined) {
    // The layout holds every blob the manifest names, whether or not the files were already in place.
    const pinned = await load();
    for (const layer of pinned.document.layers) {
      const expected: Expected = { size: layer.size, sha256: layer.digest.slice('sha256:'.length) };
      const path = [...pinned.rawByPath].find(([, d]) => d.digest === layer.digest)?.[0];
      tasks.push({
        artifact: name,
        what: `${what}: blob ${layer.digest}`,
        expected,
        present: blobPath(layout, layer.digest),
        // A one-file blob is that file's bytes: judged as it; a tar's members are judged as they are extracted.
        check: (already) => (path === undefined ? NO_CHECK : gate(path, layer.size, already)),
        fetch: async (onBytes) => void (await ensureBlob(pinned.client, layout, layer, `${what}: blob ${layer.digest}`, onBytes)),
      });
    }
  }
  const finish = async (): Promise<void> => {
    if (layout === undefined) return;
    const pinned = await load();
    const config = pinned.document.config;
    const configBytes = config.size > 0 ? await pinned.client.readBlob(config.digest, config.size, MAX_CONFIG_BYTES) : Buffer.alloc(0);
    await writeLayout(layout, { digest: source.digest, mediaType: source.mediaType, bytes: pinned.bytes, ...(source.artifactType ? { artifactType: source.artifactType } : {}), ...(source.tag ? { tag: source.tag } : {}) }, { digest: config.digest, bytes: configBytes });
  };
  return { where: folder, tasks, finish };
}

const NO_CHECK: ContentCheck = { feed: () => undefined, verify: () => undefined };

async function loadPinned(context: OciRestoreContext, what: string): Promise<Pinned> {
  const { source } = context;
  const client = new OciClient(await context.network.http(), source, context.env);
  const fetched = await client.getManifest(source.digest);
  const document = parseDocument(fetched, `${what}: manifest`);
  if (document.kind !== 'manifest') throw new AiscError('CONTENT_MISMATCH', `${what}: the locked digest names an index now; the lockfile pins a manifest`);
  const rawByPath = new Map<string, Descriptor>();
  const tars: Descriptor[] = [];
  document.layers.forEach((layer, i) => {
    const shape = getLayerShape(layer, `${what}: layer ${i}`);
    if (shape.kind === 'file') rawByPath.set(shape.path, layer);
    else tars.push(layer);
  });
  return { client, bytes: fetched.bytes, document, rawByPath, tars };
}

/** A blob into the layout's blobs/sha256/, resumable, under a lock on it; nothing when it is there and right. */
async function ensureBlob(client: OciClient, layout: string, layer: Descriptor, what: string, onBytes: (n: number) => void): Promise<string> {
  const dest = blobPath(layout, layer.digest);
  const expected: Expected = { size: layer.size, sha256: layer.digest.slice('sha256:'.length) };
  await makeFolder(dirname(dest));
  await withFileLock(`${dest}.aisc.lock`, {}, async () => {
    if (await holdsLocked(dest, expected)) return;
    await downloadFile({ dest, partial: `${dest}.aisc-download`, expected, what, onBytes, request: (from) => client.blob(layer.digest, from) });
  });
  return dest;
}

/** A blob's bytes into `dest` through a partial beside it: hashed and judged in the same pass, renamed only on a match. */
async function copyVerified(from: string, dest: string, expected: Expected, check: ContentCheck, what: string): Promise<void> {
  const partial = `${dest}.aisc-download`;
  const hasher = new ContentHasher(expected.size, false);
  const fd = openSync(partial, 'w');
  try {
    for await (const chunk of createReadStream(from, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      if (!hasher.update(chunk)) break;
      check.feed(chunk);
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  if (hasher.size !== expected.size || hasher.digest().sha256 !== expected.sha256) {
    await unlink(partial).catch(() => undefined);
    throw new AiscError('CONTENT_MISMATCH', `${what}: the layout's blob is not what is locked; nothing was placed`);
  }
  try {
    check.verify();
  } catch (error) {
    await unlink(partial).catch(() => undefined);
    throw error;
  }
  await rename(partial, dest);
}

interface Extraction {
  client: OciClient;
  layer: Descriptor;
  folder: string;
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
async function extractLayer(options: Extraction): Promise<Map<string, AiscError<string> | undefined>> {
  const { layer, folder, what } = options;
  const staging = options.layout === undefined ? `${folder}.aisc-layers` : undefined;
  const blob = options.layout !== undefined ? await ensureBlob(options.client, options.layout, layer, what, options.onBytes) : join(staging ?? '', layer.digest.slice('sha256:'.length));
  try {
    if (staging !== undefined) {
      await makeFolder(staging);
      const expected: Expected = { size: layer.size, sha256: layer.digest.slice('sha256:'.length) };
      await downloadFile({ dest: blob, partial: `${blob}.aisc-download`, expected, what, onBytes: options.onBytes, request: (from) => options.client.blob(layer.digest, from) });
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
  for (const path of locked.keys()) {
    await prepareFolder(options.folder, path).catch((error: unknown) => blocked.set(path, toWriteError(path, error)));
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
    results.set(path, undefined);
    const dest = join(options.folder, ...path.split('/'));
    const partial = `${dest}.aisc-download`;
    const hasher = new ContentHasher(file.size, false);
    const check = options.gate(path, file.size);
    const fd = openSync(partial, 'w');
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
      settled.push(settleMember(path, partial, dest, file, hasher, tooLong, check, options.what, results));
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
    const dest = join(options.folder, ...path.split('/'));
    try {
      await prepareFolder(options.folder, path);
      await copyVerified(join(options.folder, ...target.split('/')), dest, { size: file.size, sha256: file.sha256 }, options.gate(path, file.size), `${options.what}: ${path}`);
    } catch (error) {
      results.set(path, toWriteError(path, error));
    }
  }
  return results;
}

async function settleMember(path: string, partial: string, dest: string, file: FileEntry, hasher: ContentHasher, tooLong: boolean, check: ContentCheck, what: string, results: Map<string, AiscError<string> | undefined>): Promise<void> {
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
    await rename(partial, dest);
  } catch (error) {
    await unlink(partial).catch(() => undefined);
    results.set(path, toWriteError(path, error));
  }
}

function toWriteError(path: string, error: unknown): AiscError<string> {
  return error instanceof AiscError ? (error as AiscError<string>) : new AiscError('WRITE_FAILED', `${path}: ${(error as Error).message}`);
}

/** The folders from the artifact's folder down to a file's, made as needed; a link or a file on the way is refused (a write never follows one out). */
async function prepareFolder(folder: string, path: string): Promise<void> {
  await makeFolder(folder);
  const parts = path.split('/').slice(0, -1);
  let at = folder;
  for (const part of parts) {
    at = join(at, part);
    try {
      const stats = await lstat(at);
      if (stats.isSymbolicLink() || !stats.isDirectory()) throw new AiscError('SYMLINK_REFUSED', `${at}: expected a folder of the artifact, found ${stats.isSymbolicLink() ? 'a symlink' : 'a file'}; nothing is written through it`);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      await mkdir(at).catch((e: unknown) => {
        if (errnoCode(e) !== 'EEXIST') throw e;
      });
    }
  }
}

function normalizeMember(path: string): string {
  let p = path.replace(/\/+$/, '');
  while (p.startsWith('./')) p = p.slice(2);
  return p;
}
