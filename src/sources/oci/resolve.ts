import { AiscError } from '../../errors.js';
import type { OciSource } from '../../lockfile/types.js';
import { isDefaultIgnored } from '../ignore.js';
import type { SourceContext } from '../kind.js';
import type { Network } from '../network.js';
import { readPrefix, toKept } from '../remote-read.js';
import type { ListedFile, ResolvedSource } from '../source.js';
import { OciClient } from './client.js';
import { getLayerShape, parseDocument, type Descriptor, type OciDocument } from './manifest.js';
import { toOciOrigin, type OciReference } from './reference.js';

/** A config is a small JSON document; nothing larger is read. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** A manifest (never an index) with its digest, as pinned. */
export interface PinnedManifest {
  digest: string;
  document: Extract<OciDocument, { kind: 'manifest' }>;
  index?: string;
  platform?: string;
}

/**
 * Resolves a tag or digest to one image manifest: an index is narrowed by `--platform` (or
 * refused with its platforms listed), a manifest with `--platform` is refused (the flag would say
 * nothing). Every document's digest is checked against the bytes.
 */
export async function pinManifest(client: OciClient, reference: OciReference, platform: string | undefined, spec: string): Promise<PinnedManifest> {
  const asked = reference.digest ?? reference.tag ?? 'latest';
  const fetched = await client.getManifest(asked);
  const document = parseDocument(fetched, `${spec}: manifest`);
  if (document.kind === 'manifest') {
    if (platform !== undefined) throw new AiscError('USAGE', `--platform: ${spec} is one manifest, not an index of platforms`);
    return { digest: fetched.digest, document };
  }
  const chosen = choosePlatform(document.manifests, platform, spec);
  const inner = await client.getManifest(chosen.digest);
  const innerDocument = parseDocument(inner, `${spec}: manifest ${chosen.digest}`);
  if (innerDocument.kind !== 'manifest') throw new AiscError('OCI_RESPONSE_INVALID', `${spec}: the index entry for ${platform ?? ''} is itself an index`);
  return { digest: inner.digest, document: innerDocument, index: fetched.digest, platform: toPlatformText(chosen) };
}

function choosePlatform(manifests: readonly Descriptor[], platform: string | undefined, spec: string): Descriptor {
  const choices = [...new Set(manifests.filter((m) => m.platform).map(toPlatformText))];
  const listed = choices.length > 0 ? choices.join(', ') : 'none (its entries name no platform)';
  if (platform === undefined) throw new AiscError('OCI_PLATFORM_REQUIRED', `${spec}: an index of ${manifests.length} manifests; choose one with --platform (${listed})`);
  const [os, architecture, variant] = platform.split('/');
  const matching = manifests.filter((m) => m.platform?.os === os && m.platform?.architecture === architecture && (variant === undefined || m.platform?.variant === variant));
  if (matching.length === 0) throw new AiscError('OCI_PLATFORM_REQUIRED', `${spec}: no manifest for --platform ${platform}; the index has ${listed}`);
  if (matching.length > 1) throw new AiscError('OCI_PLATFORM_REQUIRED', `${spec}: ${matching.length} manifests match --platform ${platform}; name the variant (${listed})`);
  return matching[0] as Descriptor;
}

export function toPlatformText(descriptor: Descriptor): string {
  const p = descriptor.platform;
  return p ? `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}` : 'unknown';
}

/**
 * The lock side of an OCI artifact: manifest and config read and checked; a one-file layer is
 * listed from its descriptor (its digest is the file's SHA-256, so it is not downloaded); a tar
 * layer is downloaded once and read through the archive gate as it streams, its digest checked.
 */
export async function resolveOci(spec: string, reference: OciReference, context: SourceContext, network: Network): Promise<ResolvedSource> {
  // Where fetch lays the files out: only under the lockfile's folder, refused before any request.
  const kept = toKept(context.keepAt, context.lockfile);
  const client = new OciClient(await network.http(), reference, context.env ?? process.env);
  const pinned = await pinManifest(client, reference, context.platform, spec);
  const { document } = pinned;
  // The config is part of what the digest pins: checked here, so a registry serving another fails now.
  if (document.config.size > 0) await client.readBlob(document.config.digest, document.config.size, MAX_CONFIG_BYTES);
  const shapes = document.layers.map((layer, i) => getLayerShape(layer, `${spec}: layer ${i} (${layer.digest})`));
  const source: OciSource = {
    type: 'oci',
    registry: reference.registry,
    repository: reference.repository,
    digest: pinned.digest,
    mediaType: document.mediaType,
    artifactType: document.artifactType ?? document.config.mediaType,
    ...(reference.tag === undefined ? {} : { tag: reference.tag }),
    ...(pinned.index === undefined ? {} : { index: pinned.index, platform: pinned.platform }),
  };
  if (kept) source.path = kept.path;
  const layerOf = new Map<string, Descriptor>();
  return {
    source,
    layout: 'directory',
    name: reference.repository.slice(reference.repository.lastIndexOf('/') + 1),
    async list() {
      const files = new Map<string, ListedFile>();
      const add = (file: ListedFile, layer: Descriptor): void => {
        if (files.has(file.path)) throw new AiscError('ARCHIVE_UNSAFE', `${spec}: ${JSON.stringify(file.path)} is in two layers (a pull keeps only the last); nothing was locked`);
        if (isDefaultIgnored(file.path)) return;
        files.set(file.path, file);
        layerOf.set(file.path, layer);
      };
      for (const [i, layer] of document.layers.entries()) {
        const shape = shapes[i];
        if (shape?.kind === 'file') add({ path: shape.path, size: layer.size, sha256: layer.digest.slice('sha256:'.length) }, layer);
        else for (const member of await listTarLayer(client, layer, `${spec}: layer ${i} (${layer.digest})`)) add(member, layer);
      }
      if (files.size === 0) throw new AiscError('SOURCE_EMPTY', `${spec}: the manifest ${pinned.digest} has no file to lock`);
      return [...files.values()];
    },
    async attachedSignatures() {
      const { findSignatures } = await import('./signatures.js');
      return { subject: pinned.digest, spec, ...(await findSignatures(client, pinned.digest)) };
    },
    // A file that is a layer of its own (a publisher's model.sig): its blob, checked by the caller against the layer digest.
    async open(file) {
      const layer = layerOf.get(file.path);
      const shape = layer ? shapes[document.layers.indexOf(layer)] : undefined;
      if (!layer || shape?.kind !== 'file') throw new AiscError('OCI_LAYER_UNSUPPORTED', `${spec}: ${file.path} is inside a tar layer; aisc reads a file alone only when it is a layer of its own`);
      const response = await client.blob(layer.digest);
      return response.body as AsyncIterable<Buffer>;
    },
    async readRange(file, start, end) {
      const layer = layerOf.get(file.path);
      if (!layer) throw new AiscError('INTERNAL', `${spec}: ${file.path} is in no layer`);
      const response = await client.blob(layer.digest, 0, { range: `bytes=${start}-${end - 1}` });
      return readPrefix(response.body as AsyncIterable<Buffer> & { destroy(): unknown }, response.status === 206 ? 0 : start, end - start);
    },
  };
}

/** A tar layer's members, read as the blob streams (never kept), the blob's digest and size checked. */
async function listTarLayer(client: OciClient, layer: Descriptor, what: string): Promise<ListedFile[]> {
  const { listArchive } = await import('../archive.js');
  const response = await client.blob(layer.digest);
  const listed = await listArchive(capped(response.body as AsyncIterable<Buffer> & { destroy(): unknown }, layer.size, what), what);
  const digest = `sha256:${listed.sha256}`;
  if (digest !== layer.digest || listed.size !== layer.size) throw new AiscError('CONTENT_MISMATCH', `${what}: the registry served ${listed.size} bytes hashing to ${digest}; the manifest pins ${layer.size} bytes, ${layer.digest}; nothing was locked`);
  return listed.files;
}

/** The bytes of a body, refused once more arrive than the descriptor says. */
async function* capped(body: AsyncIterable<Buffer> & { destroy(): unknown }, size: number, what: string): AsyncIterable<Buffer> {
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (seen > size) {
      body.destroy();
      throw new AiscError('CONTENT_MISMATCH', `${what}: the registry sent more than the ${size} bytes the manifest pins; nothing was locked`);
    }
    yield chunk;
  }
}

export { toOciOrigin };
