import { createHash } from 'node:crypto';
import { AiscError } from '../../errors.js';
import { confine, writeFileAtomic } from '../../io/index.js';
import type { ArtifactSignature } from '../../lockfile/types.js';
import type { SignerPolicy } from '../../signing/verify-bundle.js';
import type { OciClient } from './client.js';
import { parseDocument, type Descriptor } from './manifest.js';
import { toLockfileRoot } from '../restore.js';

const BUNDLE_TYPES = new Set(['application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle+json;version=0.3', 'application/vnd.dev.sigstore.bundle+json;version=0.2']);
const SIMPLESIGNING_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';
const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;
const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Signatures read for one manifest at most: a registry cannot make lock read without end. */
const MAX_CANDIDATES = 32;

/** One signature attached to a manifest, as found. */
export interface FoundSignature {
  /** Where it was found, for messages: `referrer sha256:…` or `tag sha256-….sig`. */
  where: string;
  bundle: Buffer;
  /** The simplesigning payload a legacy `.sig` signature signs. */
  payload?: Buffer;
}

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
    const { toLegacyBundle } = await import('../../signing/cosign.js');
    for (const layer of layers) {
      const payload = await client.readBlob(layer.digest, layer.size, MAX_PAYLOAD_BYTES);
      const signature = Buffer.from(layer.annotations[SIGNATURE_ANNOTATION] ?? '', 'base64');
      found.push({ where: `tag sha256-${hex.slice(0, 12)}….sig`, bundle: toLegacyBundle(payload, signature), payload });
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

/**
 * The first signature found that verifies for `policy`, kept beside the lockfile in
 * `.aisc/signatures/` (named by its SHA-256, with its payload when it has one) so verify checks
 * it again offline. A required signer with no signature that verifies is SIGNATURE_MISSING.
 */
export async function recordSignature(client: OciClient, digest: string, spec: string, policy: SignerPolicy, lockfile: string, trustedRoot: string | undefined): Promise<ArtifactSignature> {
  const { verifyCosignSignature } = await import('../../signing/cosign.js');
  const { SignatureFinding } = await import('../../signing/errors.js');
  const { toLockfileRelative, toRecordedSigner } = await import('../../signing/artifact-signature.js');
  const { found, looked } = await findSignatures(client, digest);
  const refusals: string[] = [];
  for (const signature of found) {
    try {
      const signer = verifyCosignSignature(signature.bundle, `${spec}: ${signature.where}`, digest, policy, signature.payload);
      const sha256 = createHash('sha256').update(signature.bundle).digest('hex');
      // Beside the lockfile, confined under its folder: nothing written through a link there.
      const path = await confine(toLockfileRoot(lockfile), `.aisc/signatures/${sha256}.sigstore.json`);
      await writeFileAtomic(path, signature.bundle, { what: 'cosign signature' });
      if (signature.payload) await writeFileAtomic(`${path}.payload`, signature.payload, { what: 'cosign payload' });
      const recorded: ArtifactSignature = { bundle: toLockfileRelative(path, lockfile), bundleSha256: sha256, format: signature.payload ? 'message-signature' : 'dsse', signer: toRecordedSigner(signer, policy) };
      if (trustedRoot) recorded.trustedRoot = toLockfileRelative(trustedRoot, lockfile);
      return recorded;
    } catch (error) {
      if (!(error instanceof AiscError)) throw error;
      refusals.push(`${signature.where}: ${error.message.replace(`${spec}: ${signature.where}: `, '')}`);
    }
  }
  const what = found.length === 0 ? `no cosign signature is attached to ${digest} (looked at ${looked.join(', ')})` : `none of the ${found.length} cosign signatures attached to ${digest} verifies for the signer given (${refusals.join('; ')})`;
  throw new SignatureFinding('SIGNATURE_MISSING', `${spec}: ${what}; nothing was locked`);
}
