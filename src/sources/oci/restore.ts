import { join } from 'node:path';
import { AiscError } from '../../errors.js';
import { withFileLock } from '../../io/index.js';
import type { FileArtifact, OciSource } from '../../lockfile/types.js';
import { downloadFile, type ContentCheck, type Expected } from '../download.js';
import type { Network } from '../network.js';
import { getFetchChunkSize, holdsLocked, toExpected, toPlaced, type ContentGate, type RestorePlan, type Task } from '../restore.js';
import { OciClient } from './client.js';
import { getOciFolder, getOciPlace } from './folder.js';
import { copyVerified, ensureBlob, prepareFile } from './blobs.js';
import { extractLayer } from './extract.js';
import { blobPath, writeLayout } from './layout.js';
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
  // A lockfile from a pull request names the path: every file is written through this confined place.
  const place = getOciPlace(name, source, context.lockfile, context.env);
  const what = `${name}: ${toOciOrigin(source)}@${source.digest}`;
  let loading: Promise<Pinned> | undefined;
  const load = (): Promise<Pinned> => (loading ??= loadPinned(context, what));
  const extractions = new Map<string, Promise<Map<string, AiscError<string> | undefined>>>();
  const layout = context.ociLayout;

  const tasks: Task[] = artifact.files.map((file): Task => {
    const dest = join(folder, ...file.path.split('/'));
    const expected: Expected = toExpected(file);
    const chunkSize = getFetchChunkSize(file, context.env);
    const check = (already?: string): ContentCheck => gate(file.path, file.size, already);
    return {
      artifact: name,
      what: `${name}: ${file.path}`,
      expected,
      ...(chunkSize === undefined ? {} : { chunkSize }),
      present: dest,
      check,
      fetch: async (onBytes) => {
        const pinned = await load();
        const placed = await prepareFile(place, file.path);
        const raw = pinned.rawByPath.get(file.path);
        if (raw) {
          if (layout !== undefined) {
            await ensureBlob(pinned.client, layout, raw, `${what}: blob ${raw.digest}`, onBytes);
            return copyVerified(blobPath(layout, raw.digest), placed, expected, check(), `${name}: ${file.path}`, place.root, chunkSize);
          }
          return withFileLock(`${placed}.aisc.lock`, {}, async () => {
            const present = await holdsLocked(placed, expected, check(placed), chunkSize);
            if (present) return present;
            const got = await downloadFile({ dest: placed, partial: `${placed}.aisc-download`, root: place.root, expected, what: `${name}: ${file.path}`, onBytes, check, request: (from) => pinned.client.blob(raw.digest, from), ...(chunkSize === undefined ? {} : { chunkSize }) });
            return toPlaced(placed, got.size, got, chunkSize, got.inspection);
          });
        }
        // A member of a tar layer: every tar layer is extracted (once) until one held it.
        for (const layer of pinned.tars) {
          let extraction = extractions.get(layer.digest);
          if (!extraction) {
            extraction = extractLayer({ client: pinned.client, layer, folder, place, files: artifact.files, gate, layout, what: `${what}: layer ${layer.digest}`, onBytes });
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
        extra: true,
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
