import { AiscError } from '../../errors.js';
import { parseJsonStrict } from '../../io/index.js';
import { getPathProblem } from '../../lockfile/paths.js';
import { MAX_MANIFEST_BYTES, type FetchedManifest } from './client.js';
import { DIGEST } from './reference.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
  artifactType?: string;
  platform?: { os: string; architecture: string; variant?: string };
}

export type OciDocument =
  | { kind: 'manifest'; mediaType: string; artifactType?: string; config: Descriptor; layers: Descriptor[]; subject?: Descriptor }
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] };

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
/** Where a ModelPack layer says which file it is; an OCI title annotation otherwise (KitOps, ORAS). */
export const FILEPATH_ANNOTATION = 'org.cncf.model.filepath';
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';

/**
 * A manifest or index as served, parsed strictly (a key given twice would let two readers see two
 * documents under one digest): its media type must be one aisc reads, and agree with the
 * Content-Type; every descriptor's digest is SHA-256 and its size a safe integer.
 */
export function parseDocument(fetched: FetchedManifest, what: string): OciDocument {
  let json: unknown;
  try {
    json = parseJsonStrict(fetched.bytes.toString('utf8'), what);
  } catch (error) {
    throw new AiscError('OCI_RESPONSE_INVALID', `${what}: not a JSON manifest (${(error as Error).message})`, { cause: error });
  }
  const doc = asObject(json, what, 'the manifest');
  const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : fetched.contentType;
  if (typeof doc.mediaType === 'string' && fetched.contentType !== '' && MANIFEST_TYPES.has(fetched.contentType) !== MANIFEST_TYPES.has(doc.mediaType)) {
    throw new AiscError('OCI_RESPONSE_INVALID', `${what}: served as ${fetched.contentType} but says it is ${doc.mediaType}`);
  }
  if (doc.schemaVersion !== 2) throw new AiscError('OCI_RESPONSE_INVALID', `${what}: expected schemaVersion 2, got ${JSON.stringify(doc.schemaVersion)} (Docker schema 1 manifests are not read)`);
  if (INDEX_TYPES.has(mediaType) || (mediaType === '' && Array.isArray(doc.manifests))) {
    if (!Array.isArray(doc.manifests)) throw new AiscError('OCI_RESPONSE_INVALID', `${what}: an index without "manifests"`);
    return { kind: 'index', mediaType: mediaType || 'application/vnd.oci.image.index.v1+json', manifests: doc.manifests.map((m, i) => toDescriptor(m, `${what}: manifests[${i}]`)) };
  }
  if (!MANIFEST_TYPES.has(mediaType) && mediaType !== '') throw new AiscError('OCI_RESPONSE_INVALID', `${what}: media type ${mediaType}, not an OCI image manifest or index`);
  if (!Array.isArray(doc.layers)) throw new AiscError('OCI_RESPONSE_INVALID', `${what}: a manifest without "layers"`);
  const manifest: OciDocument = {
    kind: 'manifest',
    mediaType: mediaType || 'application/vnd.oci.image.manifest.v1+json',
    config: toDescriptor(doc.config, `${what}: config`),
    layers: doc.layers.map((layer, i) => toDescriptor(layer, `${what}: layers[${i}]`)),
  };
  if (doc.artifactType !== undefined) manifest.artifactType = toMediaType(doc.artifactType, `${what}: artifactType`);
  if (doc.subject !== undefined) manifest.subject = toDescriptor(doc.subject, `${what}: subject`);
  return manifest;
}

function toDescriptor(value: unknown, what: string): Descriptor {
  const object = asObject(value, what, 'a descriptor');
  const digest = object.digest;
  if (typeof digest !== 'string' || !DIGEST.test(digest)) throw new AiscError('OCI_RESPONSE_INVALID', `${what}: expected a sha256: digest, got ${JSON.stringify(digest)}`);
  const size = object.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new AiscError('OCI_RESPONSE_INVALID', `${what}: expected a size in bytes, got ${JSON.stringify(size)}`);
  const descriptor: Descriptor = { mediaType: toMediaType(object.mediaType, `${what}: mediaType`), digest, size, annotations: toAnnotations(object.annotations, what) };
  if (object.artifactType !== undefined) descriptor.artifactType = toMediaType(object.artifactType, `${what}: artifactType`);
  const platform = object.platform as { os?: unknown; architecture?: unknown; variant?: unknown } | undefined;
  if (platform && typeof platform.os === 'string' && typeof platform.architecture === 'string') {
    descriptor.platform = { os: platform.os, architecture: platform.architecture, ...(typeof platform.variant === 'string' ? { variant: platform.variant } : {}) };
  }
  return descriptor;
}

function toMediaType(value: unknown, what: string): string {
  if (typeof value !== 'string' || !MEDIA_TYPE.test(value)) throw new AiscError('OCI_RESPONSE_INVALID', `${what}: expected a media type, got ${JSON.stringify(value)}`);
  return value;
}

function toAnnotations(value: unknown, what: string): Record<string, string> {
  const annotations: Record<string, string> = Object.create(null) as Record<string, string>;
  if (value === undefined) return annotations;
  for (const [key, text] of Object.entries(asObject(value, what, 'annotations'))) {
    if (typeof text !== 'string') throw new AiscError('OCI_RESPONSE_INVALID', `${what}: annotation ${JSON.stringify(key)} is not a string`);
    annotations[key] = text;
  }
  return annotations;
}

function asObject(value: unknown, what: string, expected: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AiscError('OCI_RESPONSE_INVALID', `${what}: expected ${expected} (a JSON object)`);
  return value as Record<string, unknown>;
}

/** How a layer holds the artifact's files. */
export type LayerShape = { kind: 'file'; path: string } | { kind: 'tar' };

/**
 * A `.tar` / `.tar+gzip` layer (ModelPack's archived layers, KitOps', any image layer) holds files
 * under their own paths; any other layer (ModelPack `.raw`) is one file, named by its
 * `org.cncf.model.filepath` annotation, else its OCI title. A name that would land outside the
 * artifact's folder is refused as an archive member would be.
 */
export function getLayerShape(layer: Descriptor, what: string): LayerShape {
  const type = layer.mediaType.toLowerCase();
  if (/[+.]zstd$/.test(type)) throw new AiscError('OCI_LAYER_UNSUPPORTED', `${what}: a zstd layer (${layer.mediaType}) cannot be read by aisc; repack it as .tar, .tar+gzip or .raw`);
  if (/(?:^application\/tar|[.+/]tar)(?:[+.]gzip)?$/.test(type)) return { kind: 'tar' };
  const path = layer.annotations[FILEPATH_ANNOTATION] ?? layer.annotations[TITLE_ANNOTATION];
  if (path === undefined) throw new AiscError('OCI_LAYER_UNSUPPORTED', `${what}: a layer of media type ${layer.mediaType} with neither a ${FILEPATH_ANNOTATION} nor a ${TITLE_ANNOTATION} annotation, so no file name`);
  const normal = path.replace(/^(?:\.\/)+/, '');
  const problem = getPathProblem(normal);
  if (problem) throw new AiscError('ARCHIVE_UNSAFE', `${what}: the layer names the file ${JSON.stringify(path)}, which ${problem}; nothing was locked`);
  return { kind: 'file', path: normal };
}

export { MAX_MANIFEST_BYTES };
