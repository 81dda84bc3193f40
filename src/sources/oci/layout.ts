import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AiscError, errnoCode } from '../../errors.js';
import { confine, parseJsonStrict, withFileLock, writeFileAtomic } from '../../io/index.js';
import { toLayoutRoot } from './blobs.js';

const INDEX_BYTES = 16 * 1024 * 1024;

/** `blobs/sha256/<hex>` of an OCI image layout. */
export function blobPath(layout: string, digest: string): string {
  const [algorithm = 'sha256', hex = ''] = digest.split(':');
  return join(layout, 'blobs', algorithm, hex);
}

interface LayoutManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  artifactType?: string;
  tag?: string;
}

/**
 * Completes an OCI image layout (image-spec's image-layout.md) once every layer blob is in it:
 * the manifest and config blobs, `oci-layout`, and `index.json` naming the manifest (by its tag
 * as `org.opencontainers.image.ref.name`), merged with what the index already names, written
 * atomically under a lock, so oras, skopeo and containerd read it.
 */
export async function writeLayout(layout: string, manifest: LayoutManifest, config: { digest: string; bytes: Buffer }): Promise<void> {
  // Every name is written through the layout as a confined place: nothing below it through a link.
  const root = toLayoutRoot(layout);
  const blob = (digest: string): Promise<string> => confine(root, `blobs/sha256/${digest.slice('sha256:'.length)}`);
  await writeFileAtomic(await blob(manifest.digest), manifest.bytes, { what: 'OCI layout blob' });
  await writeFileAtomic(await blob(config.digest), config.bytes, { what: 'OCI layout blob' });
  await writeFileAtomic(await confine(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}', { what: 'oci-layout' });
  const indexPath = await confine(root, 'index.json');
  await withFileLock(`${indexPath}.aisc.lock`, {}, async () => {
    const index = await readIndex(indexPath);
    const ref = manifest.tag;
    // One entry per manifest digest; a tag names one manifest only, as a registry's tag does.
    const kept = index.manifests.filter((entry) => entry.digest !== manifest.digest && (ref === undefined || entry.annotations?.['org.opencontainers.image.ref.name'] !== ref));
    const entry: IndexEntry = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length };
    if (manifest.artifactType) entry.artifactType = manifest.artifactType;
    if (ref !== undefined) entry.annotations = { 'org.opencontainers.image.ref.name': ref };
    const next = { ...index.raw, schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [...kept, entry] };
    await writeFileAtomic(indexPath, `${JSON.stringify(next, null, 2)}\n`, { what: 'OCI layout index.json' });
  });
}

interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

async function readIndex(path: string): Promise<{ raw: Record<string, unknown>; manifests: IndexEntry[] }> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > INDEX_BYTES) throw new AiscError('FILE_TOO_LARGE', `${path}: larger than ${INDEX_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { raw: {}, manifests: [] };
    throw error;
  }
  const json = parseJsonStrict(text, path);
  const manifests = (json as { manifests?: unknown } | null)?.manifests;
  if (typeof json !== 'object' || json === null || Array.isArray(json) || (manifests !== undefined && !Array.isArray(manifests))) {
    throw new AiscError('JSON_INVALID', `${path}: expected an OCI index (an object with a "manifests" array)`);
  }
  return { raw: json as Record<string, unknown>, manifests: (manifests ?? []) as IndexEntry[] };
}
