import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { forEachConcurrent } from '../concurrent.js';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Bundle } from '@sigstore/bundle';
import type { ArtifactSignature, FileEntry, Layout, RecordedSigner } from '../lockfile/types.js';
import { readBundle, readBundleFile, type BundleRef } from './bundle.js';
import { SignatureFinding } from './errors.js';
import { isOmsBundle, toOmsManifest, toShardRanges, type OmsManifest } from './oms.js';
import { parseStatement } from './statement.js';
import { getPublicGoodTrustedRoot, readTrustedRoot } from './trust.js';
import { verifyBundle, type SignerPolicy, type VerifiedSigner } from './verify-bundle.js';
import { verifyFileSignature } from './verify-file.js';
import { hashStreamed, toOmsContent } from './verify-model.js';

export interface SignedArtifact {
  layout: Layout;
  /** Where the artifact is: the folder, or the one file. */
  path: string;
  /** The files as hashed for the lockfile (verified against the signed manifest, not re-read). */
  files: readonly FileEntry[];
  /** A detached signature over the origin's pin (an OCI manifest digest, as cosign signs it) rather than over the files. */
  subject?: string;
  /**
   * The locked files are a selection of the origin's (a Hub repo locked with --include/--exclude):
   * a signed file the selection leaves out need not be locked; one it takes in must be.
   */
  selected?: (path: string) => boolean;
  /** The files are not on this machine (a Hub repo at lock): digests that cannot be derived from the locked ones are left to verify. */
  remote?: boolean;
}

/** How far to check: `manifest: false` verifies who signed only (what --force records when the files differ). */
export interface ArtifactSignatureOptions {
  trustedRootPath?: string;
  manifest?: boolean;
  /** Told what could not be checked yet, and why. */
  onNote?: (message: string) => void;
}

/**
 * Verifies the bundle over an artifact whose files were just hashed, and returns what the lockfile
 * records: the bundle (path relative to the lockfile, SHA-256), its format and the signer. An OMS
 * manifest must name exactly the artifact's files with the same digests. Throws SignatureFinding.
 */
export async function verifyArtifactSignature(
  artifact: SignedArtifact,
  bundleRef: BundleRef,
  policy: SignerPolicy,
  lockfilePath: string,
  options: ArtifactSignatureOptions = {},
): Promise<ArtifactSignature> {
  const { trustedRootPath, manifest: checkManifest = true } = options;
  // Read once: the SHA-256 recorded, the bundle parsed and every check below are of these bytes.
  const file = typeof bundleRef === 'string' ? await readBundleFile(bundleRef) : bundleRef;
  const { bundle, bytes } = await readBundle(file, { allowV03CertificateChain: policy.kind !== 'keyless' });
  const format = getFormat(bundle);
  let signer: VerifiedSigner;
  if (artifact.subject !== undefined) {
    // cosign signs the manifest, which pins every layer the locked files came from.
    const { verifyCosignSignature } = await import('./cosign.js');
    const payload = format === 'message-signature' ? (await readBundleFile(`${file.path}.payload`)).bytes : undefined;
    signer = verifyCosignSignature(bytes, file.path, artifact.subject, policy, payload);
  } else if (format === 'model-signing' && bundle.content.$case === 'dsseEnvelope') {
    const manifest = toOmsManifest(parseStatement(bundle.content.dsseEnvelope));
    const derivable = manifest.method === 'files' && manifest.hashType === 'sha256';
    if (!derivable && checkManifest && !artifact.remote) {
      // Shard digests, and other hashes than SHA-256, cannot be derived from the locked digests: the files are read again.
      signer = await verifyByReading(artifact, bundle, manifest, policy);
    } else {
      signer = verifyBundle(bundle, toOmsContent(bundle.content.dsseEnvelope, manifest, policy), policy);
      if (checkManifest && derivable) compareManifest(manifest.resources, artifact);
      else if (checkManifest) {
        compareManifestNames(manifest.resources.map((r) => r.shard?.path ?? r.name), artifact);
        options.onNote?.(`its ${manifest.method === 'shards' ? `${manifest.hashType} shard` : manifest.hashType} digests cannot be derived from the origin's SHA-256 listing: the signer and the file names were checked now, every digest is checked by aisc verify once the files are fetched`);
      }
    }
  } else {
    if (artifact.layout !== 'file') throw new SignatureFinding('MANIFEST_MISMATCH', `a ${format} bundle signs one file; ${artifact.path} is a folder (sign folders with OpenSSF Model Signing)`);
    const report = await verifyFileSignature(artifact.path, file, policy);
    const [finding] = report.findings;
    if (!report.ok || !report.signer) throw new SignatureFinding((finding?.code ?? 'SIGNATURE_INVALID') as 'SIGNATURE_INVALID', finding?.message ?? 'does not verify');
    if (report.sha256 !== artifact.files[0]?.sha256) throw new SignatureFinding('DIGEST_MISMATCH', `the signed file is sha256:${report.sha256 ?? '?'}; the locked one is sha256:${artifact.files[0]?.sha256 ?? '?'}`);
    signer = report.signer;
  }
  const recorded: ArtifactSignature = {
    bundle: toLockfileRelative(file.path, lockfilePath),
    bundleSha256: createHash('sha256').update(bytes).digest('hex'),
    format,
    signer: toRecordedSigner(signer, policy),
  };
  if (trustedRootPath) recorded.trustedRoot = toLockfileRelative(trustedRootPath, lockfilePath);
  return recorded;
}

function getFormat(bundle: Bundle): ArtifactSignature['format'] {
  if (bundle.content.$case === 'messageSignature') return 'message-signature';
  return isOmsBundle(bundle) ? 'model-signing' : 'dsse';
}

/**
 * A manifest whose digests the locked SHA-256s cannot give (shards, BLAKE2b, BLAKE3): who signed,
 * then the signed names against the locked files, then each locked file read again (where it is
 * now: a folder, an HF cache snapshot whose files are links into its blobs) and its digests, or
 * its shards', compared with the signed ones.
 */
async function verifyByReading(artifact: SignedArtifact, bundle: Bundle, manifest: OmsManifest, policy: SignerPolicy): Promise<VerifiedSigner> {
  if (bundle.content.$case !== 'dsseEnvelope') throw new SignatureFinding('SIGNATURE_INVALID', 'not a DSSE envelope');
  const signer = verifyBundle(bundle, toOmsContent(bundle.content.dsseEnvelope, manifest, policy), policy);
  compareManifestNames(manifest.resources.map((r) => r.shard?.path ?? r.name), artifact);
  const single = artifact.layout === 'file';
  const signed = new Map<string, Map<string, string>>();
  for (const resource of manifest.resources) {
    const name = single ? (artifact.files[0]?.path ?? '') : (resource.shard?.path ?? resource.name);
    const parts = signed.get(name) ?? new Map<string, string>();
    parts.set(resource.shard ? `${resource.shard.start}:${resource.shard.end}` : '', resource.digest);
    signed.set(name, parts);
  }
  const problems: string[] = [];
  await forEachConcurrent([...artifact.files], 4, async (file) => {
    const parts = signed.get(file.path);
    if (!parts) return;
    const path = single ? artifact.path : join(artifact.path, ...file.path.split('/'));
    const ranges = manifest.shardSize === undefined ? [undefined] : toShardRanges(file.size, manifest.shardSize);
    if (manifest.shardSize !== undefined && (ranges.length !== parts.size || ranges.some((r) => !parts.has(`${r?.start}:${r?.end}`)))) {
      problems.push(`${file.path}: its ${file.size} bytes do not cut into the signed shards`);
      return;
    }
    for (const range of ranges) {
      const expected = parts.get(range ? `${range.start}:${range.end}` : '');
      const actual = await hashStreamed(path, manifest.hashType, range).catch((error: unknown) => `unreadable (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      if (actual !== expected) {
        problems.push(`${file.path} differs from its signed ${manifest.hashType} digest${range ? ` of bytes ${range.start}-${range.end}` : ''}`);
        return;
      }
    }
  });
  throwManifestProblems(problems.sort());
  return signer;
}

function compareManifest(resources: readonly { name: string; digest: string }[], artifact: SignedArtifact): void {
  const signed = new Map(resources.map((r) => [artifact.layout === 'file' && resources.length === 1 ? (artifact.files[0]?.path ?? r.name) : r.name, r.digest]));
  const problems: string[] = [];
  for (const file of artifact.files) {
    const digest = signed.get(file.path);
    if (digest === undefined) problems.push(`${file.path} is locked but not signed`);
    else if (digest !== file.sha256) problems.push(`${file.path} differs from its signed digest`);
    signed.delete(file.path);
  }
  for (const name of signed.keys()) if (isExpected(artifact, name)) problems.push(`${name} is signed but not locked`);
  throwManifestProblems(problems);
}

/** The signed file names (shards folded into their file) against the locked ones, for digests left to verify. */
function compareManifestNames(names: readonly string[], artifact: SignedArtifact): void {
  const signed = new Set(artifact.layout === 'file' && new Set(names).size === 1 ? [artifact.files[0]?.path ?? ''] : names);
  const problems = artifact.files.filter((file) => !signed.has(file.path) && file.size > 0).map((file) => `${file.path} is locked but not signed`);
  const locked = new Set(artifact.files.map((file) => file.path));
  for (const name of signed) if (!locked.has(name) && isExpected(artifact, name)) problems.push(`${name} is signed but not locked`);
  throwManifestProblems(problems);
}

/** A signed file must be locked, unless the artifact is a selection that leaves it out. */
function isExpected(artifact: SignedArtifact, path: string): boolean {
  return artifact.selected === undefined || artifact.selected(path);
}

function throwManifestProblems(problems: readonly string[]): void {
  if (problems.length > 0) throw new SignatureFinding('MANIFEST_MISMATCH', `the signed manifest is not the locked files: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
}

/** What the lockfile records of a verified signer: a key's PEM, a CA's anchors. */
export function toRecordedSigner(signer: VerifiedSigner, policy: SignerPolicy): RecordedSigner {
  switch (signer.kind) {
    case 'keyless':
      return signer;
    case 'key':
      if (policy.kind !== 'key') throw new SignatureFinding('SIGNER_MISMATCH', 'a key signer without a key policy');
      return { ...signer, publicKey: policy.key.export({ type: 'spki', format: 'pem' }).toString() };
    case 'certificate':
      if (policy.kind !== 'certificate') throw new SignatureFinding('SIGNER_MISMATCH', 'a certificate signer without a CA');
      return { ...signer, anchors: policy.anchors.map((anchor) => anchor.toString()) };
    default: {
      const never: never = signer;
      return never;
    }
  }
}

/** The policy that re-verifies a recorded signature: the same signer exactly, nobody else. */
export async function toRecordedPolicy(signature: ArtifactSignature, lockfilePath: string): Promise<SignerPolicy> {
  const trustedRoot = signature.trustedRoot ? await readTrustedRoot(fromLockfileRelative(signature.trustedRoot, lockfilePath)) : getPublicGoodTrustedRoot();
  const signer = signature.signer;
  switch (signer.kind) {
    case 'keyless':
      return { kind: 'keyless', trustedRoot, identity: { identity: { exact: signer.identity }, issuer: { exact: signer.issuer } } };
    case 'key':
      return { kind: 'key', trustedRoot, key: createPublicKey(signer.publicKey) };
    case 'certificate':
      return { kind: 'certificate', anchors: signer.anchors.map((pem) => new X509Certificate(pem)) };
    default: {
      const never: never = signer;
      return never;
    }
  }
}

export function toLockfileRelative(path: string, lockfilePath: string): string {
  const rel = relative(dirname(resolve(lockfilePath)), resolve(path));
  return isAbsolute(rel) ? resolve(path).split(sep).join('/') : rel.split(sep).join('/');
}

export function fromLockfileRelative(path: string, lockfilePath: string): string {
  return path.startsWith('/') ? path : join(dirname(resolve(lockfilePath)), ...path.split('/'));
}
