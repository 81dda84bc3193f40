import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Bundle } from '@sigstore/bundle';
import type { ArtifactSignature, FileEntry, Layout, RecordedSigner } from '../lockfile/types.js';
import { readBundle, readBundleFile, type BundleFile, type BundleRef } from './bundle.js';
import { SignatureFinding } from './errors.js';
import { OMS_PREDICATE_TYPES, toOmsManifest, type OmsResource } from './oms.js';
import { parseStatement } from './statement.js';
import { getPublicGoodTrustedRoot, readTrustedRoot } from './trust.js';
import { verifyBundle, type SignerPolicy, type VerifiedSigner } from './verify-bundle.js';
import { verifyFileSignature } from './verify-file.js';
import { toOmsContent, verifyModelSignature } from './verify-model.js';

export interface SignedArtifact {
  layout: Layout;
  /** Where the artifact is: the folder, or the one file. */
  path: string;
  /** The files as hashed for the lockfile (verified against the signed manifest, not re-read). */
  files: readonly FileEntry[];
  /** A detached signature over the origin's pin (an OCI manifest digest, as cosign signs it) rather than over the files. */
  subject?: string;
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
  trustedRootPath?: string,
): Promise<ArtifactSignature> {
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
    if (manifest.method === 'shards' || manifest.hashType !== 'sha256') {
      // Shard digests, and other hashes than SHA-256, cannot be derived from the locked digests: the files are read again.
      signer = await verifyByReading(artifact, file, policy, manifest.resources);
    } else {
      signer = verifyBundle(bundle, toOmsContent(bundle.content.dsseEnvelope, manifest, policy), policy);
      compareManifest(manifest.resources, artifact);
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
  try {
    const type = (JSON.parse(bundle.content.dsseEnvelope.payload.toString('utf8')) as { predicateType?: unknown }).predicateType;
    return typeof type === 'string' && OMS_PREDICATE_TYPES.includes(type) ? 'model-signing' : 'dsse';
  } catch {
    return 'dsse';
  }
}

async function verifyByReading(artifact: SignedArtifact, bundle: BundleFile, policy: SignerPolicy, resources: readonly OmsResource[]): Promise<VerifiedSigner> {
  const report = await verifyModelSignature(artifact.path, bundle, policy);
  const [finding] = report.findings;
  if (!report.ok || !report.signer) {
    throw new SignatureFinding((finding?.code ?? 'SIGNATURE_INVALID') as 'SIGNATURE_INVALID', `${finding?.path === undefined ? '' : `${finding.path}: `}${finding?.message ?? 'does not verify'}`);
  }
  const signedPaths = new Set(resources.map((r) => (artifact.layout === 'file' ? (artifact.files[0]?.path ?? '') : (r.shard?.path ?? r.name))));
  const lockedPaths = new Set(artifact.files.map((f) => f.path));
  const differ = [...lockedPaths].filter((p) => !signedPaths.has(p)).concat([...signedPaths].filter((p) => !lockedPaths.has(p)));
  if (differ.length > 0) throw new SignatureFinding('MANIFEST_MISMATCH', `the signed manifest is not the locked files: ${differ.slice(0, 5).join(', ')}`);
  return report.signer;
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
  for (const name of signed.keys()) problems.push(`${name} is signed but not locked`);
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
