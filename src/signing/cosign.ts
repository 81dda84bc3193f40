import { createHash, verify as cryptoVerify } from 'node:crypto';
import { parseJsonStrict } from '../io/index.js';
import { parseBundle } from './bundle.js';
import { DsseContent, StreamedMessageContent } from './content.js';
import { SignatureFinding, signatureInputError } from './errors.js';
import { getKeyHash } from './keys.js';
import { parseStatement } from './statement.js';
import { verifyBundle, type SignerPolicy, type VerifiedSigner } from './verify-bundle.js';

/** What `cosign sign --new-bundle-format` signs over an image: an in-toto statement of this type. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
/** The payload of cosign's legacy `.sig` signatures. */
export const SIMPLESIGNING_TYPE = 'cosign container image signature';

/**
 * A cosign signature over an OCI manifest, verified offline for `policy`: a Sigstore bundle (what
 * cosign attaches as a referrer) whose DSSE statement is cosign's sign predicate naming the
 * manifest's digest as its subject; or a message signature over cosign's legacy simplesigning
 * payload, whose `docker-manifest-digest` is the manifest's. Throws SignatureFinding.
 */
export function verifyCosignSignature(bundleBytes: Buffer, where: string, subject: string, policy: SignerPolicy, payload?: Buffer): VerifiedSigner {
  const bundle = parseBundle(bundleBytes.toString('utf8'), where, { allowV03CertificateChain: policy.kind !== 'keyless' });
  const [algorithm, hex] = subject.split(':');
  if (bundle.content.$case === 'dsseEnvelope') {
    const statement = parseStatement(bundle.content.dsseEnvelope);
    if (statement.predicateType !== COSIGN_SIGN_PREDICATE) throw new SignatureFinding('SUBJECT_MISMATCH', `${where}: an attestation (${statement.predicateType}), not a cosign signature (${COSIGN_SIGN_PREDICATE})`);
    if (!statement.subject.some((s) => algorithm !== undefined && s.digest[algorithm] === hex)) {
      throw new SignatureFinding('SUBJECT_MISMATCH', `${where}: signs ${statement.subject.map((s) => Object.entries(s.digest).map(([a, d]) => `${a}:${d ?? ''}`).join(' ')).join(', ')}, not the locked manifest ${subject}`);
    }
    return verifyBundle(bundle, new DsseContent(bundle.content.dsseEnvelope), policy);
  }
  if (!payload) throw signatureInputError('PAYLOAD_INVALID', `${where}: a message signature without the simplesigning payload it signs`);
  const digest = createHash('sha256').update(payload).digest();
  if (!digest.equals(bundle.content.messageSignature.messageDigest?.digest ?? Buffer.alloc(0))) throw new SignatureFinding('DIGEST_MISMATCH', `${where}: the payload is not the one the signature's digest names`);
  assertSimpleSigning(payload, where, subject);
  if (policy.kind !== 'key') throw new SignatureFinding('SIGNER_MISMATCH', `${where}: a legacy cosign .sig signature is read for key signers only (keyless: sign with cosign --new-bundle-format)`);
  const signature = bundle.content.messageSignature.signature;
  let valid: boolean;
  try {
    valid = cryptoVerify(getKeyHash(policy.key) ?? null, payload, policy.key, signature);
  } catch {
    valid = false;
  }
  return verifyBundle(bundle, new StreamedMessageContent(signature, digest, policy.key, valid), policy);
}

/** cosign's simplesigning payload naming `subject` as its `docker-manifest-digest`. */
function assertSimpleSigning(payload: Buffer, where: string, subject: string): void {
  let json: unknown;
  try {
    json = parseJsonStrict(payload.toString('utf8'), `${where} payload`);
  } catch (error) {
    throw signatureInputError('PAYLOAD_INVALID', (error as Error).message, error);
  }
  const critical = (json as { critical?: { type?: unknown; image?: { 'docker-manifest-digest'?: unknown } } } | null)?.critical;
  if (critical?.type !== SIMPLESIGNING_TYPE) throw signatureInputError('PAYLOAD_INVALID', `${where}: not a cosign simplesigning payload (critical.type ${JSON.stringify(critical?.type)})`);
  const signed = critical.image?.['docker-manifest-digest'];
  if (signed !== subject) throw new SignatureFinding('SUBJECT_MISMATCH', `${where}: signs the manifest ${JSON.stringify(signed)}, not the locked ${subject}`);
}

/** cosign's legacy `.sig` layer (payload + base64 signature annotation) as a Sigstore v0.3 message-signature bundle with a key hint, so it is kept and re-verified as any bundle is. */
export function toLegacyBundle(payload: Buffer, signature: Buffer): Buffer {
  return Buffer.from(
    `${JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: '' }, tlogEntries: [] },
      messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(payload).digest('base64') }, signature: signature.toString('base64') },
    })}\n`,
  );
}
