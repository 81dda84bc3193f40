import type { OciClient } from './client.js';
import { parseDocument, type Descriptor } from './manifest.js';

const BUNDLE_TYPES = new Set(['application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle+json;version=0.3', 'application/vnd.dev.sigstore.bundle+json;version=0.2']);
const SIMPLESIGNING_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';
const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;
const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Signatures read for one manifest at most: a registry cannot make lock read without end. */
const MAX_CANDIDATES = 32;

import type { FoundSignature } from '../listing.js';

/**
 * cosign's signatures over a manifest, as `cosign verify` looks for them: Sigstore bundles through
 * the referrers API, or its tag-schema fallback (`sha256-<hex>`) where the registry has no
 * referrers API (CNCF Distribution 2.8); then the legacy `sha256-<hex>.sig` tag. Each referrer
 * must name the manifest as its subject; every blob is checked against its digest.
 */
export async function findSignatures(client: OciClient, digest: string): Promise<{ found: FoundSignature[]; looked: string[] }> {
  const hex = digest.slice('sha256:'.length);
  const found: FoundSignature[] = [];
  const looked: string[] = [];
  let index = await client.getReferrers(digest);
  looked.push('the referrers API');
  if (index === undefined) {
    looked.push(`the tag sha256-${hex.slice(0, 12)}…`);
    index = (await client.findManifest(`sha256-${hex}`))?.bytes;
  }
  if (index !== undefined) {
    const document = parseDocument({ bytes: index, digest: '', contentType: 'application/vnd.oci.image.index.v1+json' }, `${digest}: referrers`);
    const referrers = document.kind === 'index' ? document.manifests.filter((m) => m.artifactType !== undefined && BUNDLE_TYPES.has(m.artifactType)).slice(0, MAX_CANDIDATES) : [];
    for (const referrer of referrers) {
      const bundle = await readReferrer(client, referrer, digest);
      if (bundle) found.push({ where: `referrer ${referrer.digest}`, bundle });
    }
  }
  looked.push(`the tag sha256-${hex.slice(0, 12)}….sig`);
  const legacy = await client.findManifest(`sha256-${hex}.sig`);
  if (legacy) {
    const document = parseDocument(legacy, `${digest}: .sig`);
    const layers = document.kind === 'manifest' ? document.layers.filter((l) => l.mediaType === SIMPLESIGNING_LAYER && l.annotations[SIGNATURE_ANNOTATION] !== undefined).slice(0, MAX_CANDIDATES) : [];
    for (const layer of layers) {
      const payload = await client.readBlob(layer.digest, layer.size, MAX_PAYLOAD_BYTES);
      const signature = Buffer.from(layer.annotations[SIGNATURE_ANNOTATION] ?? '', 'base64');
      found.push({ where: `tag sha256-${hex.slice(0, 12)}….sig`, payload, signature });
    }
  }
  return { found, looked };
}

async function readReferrer(client: OciClient, referrer: Descriptor, subject: string): Promise<Buffer | undefined> {
  const manifest = await client.getManifest(referrer.digest);
  const document = parseDocument(manifest, `referrer ${referrer.digest}`);
  // An index that lists a referrer does not make it one: its own subject must be this manifest.
  if (document.kind !== 'manifest' || document.subject?.digest !== subject) return undefined;
  const layer = document.layers.find((l) => BUNDLE_TYPES.has(l.mediaType));
  return layer ? client.readBlob(layer.digest, layer.size, MAX_BUNDLE_BYTES) : undefined;
}
