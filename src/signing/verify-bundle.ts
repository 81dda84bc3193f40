import { X509Certificate, type KeyObject } from 'node:crypto';
import type { Bundle } from '@sigstore/bundle';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { PolicyError, toSignedEntity, toTrustMaterial, VerificationError, Verifier, type Signer, type TrustMaterial } from '@sigstore/verify';
import { fromSigstoreCode, SignatureFinding, signatureInputError } from './errors.js';
import { describeMatcher, matches, type KeylessIdentity } from './identity.js';
import { getKeyFingerprint } from './keys.js';
import { verifyCertificateChain } from './certificate.js';
import { isOmsBundle } from './oms.js';
import type { SignatureContent } from './content.js';

/** Who must have signed. */
export type SignerPolicy =
  | {
      kind: 'keyless';
      identity: KeylessIdentity;
      trustedRoot: TrustedRoot;
      /** Accept a chain that ends in a root the trusted root itself holds (npm's v0.1 attestation bundles carry one). */
      allowTrustedRootInChain?: boolean;
    }
  | { kind: 'key'; key: KeyObject; trustedRoot: TrustedRoot; /** When the key may sign (checked against the verified timestamp). */ validFor?: (date: Date) => boolean }
  | { kind: 'certificate'; anchors: X509Certificate[]; now?: Date };

/** Who did sign, as recorded in a lockfile and shown in reports. */
export type VerifiedSigner =
  | { kind: 'keyless'; identity: string; issuer: string }
  | { kind: 'key'; keyFingerprint: string }
  | { kind: 'certificate'; subject: string; certificateFingerprint: string };

/** The key the bundle says signed: its certificate's, or the policy's for a key bundle. */
export function getSigningKey(bundle: Bundle, policy: SignerPolicy): KeyObject {
  const leaf = getLeafCertificate(bundle);
  if (leaf) return leaf.publicKey;
  if (policy.kind === 'key') return policy.key;
  throw new SignatureFinding('SIGNER_MISMATCH', `the bundle is signed with a bare public key; expected ${policy.kind === 'keyless' ? 'a Sigstore certificate (verify with --key for key bundles)' : 'a certificate chain'}`);
}

export function getLeafCertificate(bundle: Bundle): X509Certificate | undefined {
  const material = bundle.verificationMaterial.content;
  switch (material.$case) {
    case 'x509CertificateChain': {
      const first = material.x509CertificateChain.certificates[0];
      return first ? toX509(first.rawBytes) : undefined;
    }
    case 'certificate':
      return toX509(material.certificate.rawBytes);
    case 'publicKey':
      return undefined;
    default:
      return undefined;
  }
}

function toX509(raw: Buffer): X509Certificate {
  try {
    const certificate = new X509Certificate(raw);
    // A certificate can parse while its key does not: touch it here, where it is caught.
    void certificate.publicKey;
    return certificate;
  } catch (error) {
    throw signatureInputError('BUNDLE_INVALID', `the bundle's certificate does not parse (${(error as Error).message})`, error);
  }
}

/**
 * Verifies the bundle around `content`: with sigstore-js's Verifier for keyless and key bundles
 * (timestamps, certificate chain to Fulcio, SCTs, transparency log), or against a private CA for
 * certificate bundles; then that the signer is the one the policy names. Throws SignatureFinding.
 */
export function verifyBundle(bundle: Bundle, content: SignatureContent, policy: SignerPolicy): VerifiedSigner {
  if (policy.kind === 'certificate') return verifyWithPrivateCa(bundle, content, policy);
  const certificateBased = bundle.verificationMaterial.content.$case !== 'publicKey';
  if (policy.kind === 'key' && certificateBased) {
    throw new SignatureFinding('SIGNER_MISMATCH', 'the bundle is certificate-signed (its verification material is a certificate, not a public key), so --key cannot check it: use --certificate-chain CA for a private CA, or identity flags for Sigstore');
  }
  if (policy.kind === 'keyless') rejectEmbeddedRoot(bundle, policy.allowTrustedRootInChain ? policy.trustedRoot : undefined);
  checkProofsMatchCheckpoints(bundle);
  let signer: Signer;
  try {
    const entity = { ...toSignedEntity(bundle, Buffer.alloc(0)), signature: content };
    const keyFinder = policy.kind === 'key' ? () => ({ publicKey: policy.key, validFor: policy.validFor ?? (() => true) }) : undefined;
    const material = getTrustMaterial(policy.trustedRoot, keyFinder);
    // A certificate is only as good as the time it was used: never accept one without a
    // verified timestamp (tlog or TSA). Key bundles carry their own trust; their tlog entries,
    // when present, must still verify, and a key with a validity window needs a verified time.
    const options = certificateBased
      ? { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }
      : { tlogThreshold: Math.min(1, bundle.verificationMaterial.tlogEntries.length), ctlogThreshold: 0, timestampThreshold: policy.kind === 'key' && policy.validFor ? 1 : 0 };
    signer = new Verifier(material, options).verify(entity);
  } catch (error) {
    throw toFinding(error);
  }
  if (policy.kind === 'key') return { kind: 'key', keyFingerprint: getKeyFingerprint(policy.key) };
  return checkIdentity(signer, policy.identity);
}

const materials = new WeakMap<TrustedRoot, TrustMaterial>();

/** A trusted root's certificates and keys, parsed once per root (verifying many bundles repeats none of it). */
function getTrustMaterial(root: TrustedRoot, keyFinder: TrustMaterial['publicKey'] | undefined): TrustMaterial {
  let material = materials.get(root);
  if (!material) {
    material = toTrustMaterial(root);
    materials.set(root, material);
  }
  return keyFinder ? { ...material, publicKey: keyFinder } : material;
}

/**
 * A chain that carries its own root would let the bundle vouch for itself: the root comes from the
 * trusted root only. With `known`, a root byte-identical to one the trusted root holds is redundant
 * rather than foreign, and is let through (the chain is still built from the trusted root alone).
 */
function rejectEmbeddedRoot(bundle: Bundle, known?: TrustedRoot): void {
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'x509CertificateChain') return;
  const trusted = (known?.certificateAuthorities ?? []).flatMap((ca) => ca.certChain?.certificates ?? []).map((c) => c.rawBytes);
  for (const { rawBytes } of material.x509CertificateChain.certificates) {
    const certificate = toX509(rawBytes);
    if (trusted.some((raw) => raw.equals(rawBytes))) continue;
    if (isSelfSigned(certificate)) throw new SignatureFinding('CERTIFICATE_INVALID', `the bundle's certificate chain contains a root certificate (${certificate.subject.replaceAll('\n', ', ')}); roots come from the trusted root only`);
  }
}

/**
 * sigstore-js proves inclusion against the checkpoint's signed root hash but never compares it
 * with the proof's own rootHash and treeSize, so those fields could say anything. They must agree.
 */
function checkProofsMatchCheckpoints(bundle: Bundle): void {
  for (const entry of bundle.verificationMaterial.tlogEntries) {
    const proof = entry.inclusionProof;
    const envelope = proof?.checkpoint?.envelope;
    if (!proof || !envelope) continue;
    const [, size, rootHash] = envelope.split('\n');
    if (rootHash === undefined || !Buffer.from(rootHash, 'base64').equals(proof.rootHash) || size !== proof.treeSize) {
      throw new SignatureFinding('TLOG_INVALID', `the inclusion proof (tree size ${proof.treeSize}, root ${proof.rootHash.toString('base64')}) does not match its signed checkpoint`);
    }
  }
}

function isSelfSigned(certificate: X509Certificate): boolean {
  try {
    return certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey);
  } catch {
    return false;
  }
}

function checkIdentity(signer: Signer, expected: KeylessIdentity): VerifiedSigner {
  const identity = signer.identity?.subjectAlternativeName;
  const issuer = signer.identity?.extensions?.issuer;
  if (!matches(expected.identity, identity)) {
    throw new SignatureFinding('SIGNER_MISMATCH', `signed by ${JSON.stringify(identity ?? 'nobody')}; expected identity ${describeMatcher(expected.identity)}`, { details: { identity, issuer } });
  }
  if (!matches(expected.issuer, issuer)) {
    throw new SignatureFinding('SIGNER_MISMATCH', `issued by ${JSON.stringify(issuer ?? 'nobody')}; expected issuer ${describeMatcher(expected.issuer)}`, { details: { identity, issuer } });
  }
  return { kind: 'keyless', identity: identity ?? '', issuer: issuer ?? '' };
}

function verifyWithPrivateCa(bundle: Bundle, content: SignatureContent, policy: Extract<SignerPolicy, { kind: 'certificate' }>): VerifiedSigner {
  const material = bundle.verificationMaterial.content;
  if (material.$case === 'publicKey') throw new SignatureFinding('SIGNER_MISMATCH', 'the bundle is signed with a bare public key; expected a certificate chain');
  // OMS v1.0 §4.1: the certificate method carries x509CertificateChain; a lone `certificate` is the Sigstore method's.
  if (material.$case === 'certificate' && isOmsBundle(bundle)) {
    throw new SignatureFinding('SIGNER_MISMATCH', "the OpenSSF Model Signing bundle carries a single Sigstore certificate (the sigstore method), not the certificate method's x509CertificateChain: verify it with identity flags");
  }
  const certificates = material.$case === 'x509CertificateChain' ? material.x509CertificateChain.certificates.map((c) => toX509(c.rawBytes)) : [toX509(material.certificate.rawBytes)];
  const [leaf, ...intermediates] = certificates;
  if (!leaf) throw new SignatureFinding('CERTIFICATE_INVALID', 'the bundle has an empty certificate chain');
  verifyCertificateChain(leaf, intermediates, policy.anchors, policy.now ?? new Date());
  if (!content.verifySignature(leaf.publicKey)) throw new SignatureFinding('SIGNATURE_INVALID', 'the signature does not verify with the certificate key');
  return { kind: 'certificate', subject: leaf.subject.replaceAll('\n', ', '), certificateFingerprint: leaf.fingerprint256.replaceAll(':', '').toLowerCase() };
}


function toFinding(error: unknown): Error {
  if (error instanceof SignatureFinding) return error;
  if (error instanceof VerificationError || error instanceof PolicyError) {
    return new SignatureFinding(fromSigstoreCode(error.code), error.message, { cause: error });
  }
  // A bundle that passed validation but still trips the library (a TypeError on a missing
  // field, a RangeError on a short buffer) is unusable input, never a pass.
  return signatureInputError('BUNDLE_INVALID', `the bundle cannot be verified (${error instanceof Error ? error.message : String(error)})`, error);
}
