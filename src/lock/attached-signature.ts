import { createHash } from 'node:crypto';
import { AiscError } from '../errors.js';
import { confine, writeFileAtomic } from '../io/index.js';
import type { ArtifactSignature } from '../lockfile/types.js';
import type { SignerPolicy } from '../signing/verify-bundle.js';
import { toLockfileRoot, type AttachedSignatures } from '../sources/index.js';

/**
 * The first signature found that verifies for one of `signers`, kept beside the lockfile in
 * `.aisc/signatures/` (named by its SHA-256, with its payload when it has one) so verify checks
 * it again offline. A required signer with no signature that verifies is SIGNATURE_MISSING.
 */
export async function recordAttachedSignature(attached: AttachedSignatures, signers: readonly SignerPolicy[], lockfile: string, trustedRoot: string | undefined): Promise<ArtifactSignature> {
  const { subject: digest, spec, found, looked } = attached;
  const { toLegacyBundle, verifyCosignSignature } = await import('../signing/cosign.js');
  const { SignatureFinding } = await import('../signing/errors.js');
  const { toLockfileRelative, toRecordedSigner } = await import('../signing/artifact-signature.js');
  const refusals: string[] = [];
  for (const signature of found) {
    for (const policy of signers) {
      try {
        // A legacy .sig signature is its payload and raw signature: put in a bundle, as cosign reads it.
        const bundle = signature.bundle ?? toLegacyBundle(signature.payload ?? Buffer.alloc(0), signature.signature ?? Buffer.alloc(0));
        const signer = verifyCosignSignature(bundle, `${spec}: ${signature.where}`, digest, policy, signature.payload);
        const sha256 = createHash('sha256').update(bundle).digest('hex');
        // Beside the lockfile, confined under its folder: nothing written through a link there.
        const path = await confine(toLockfileRoot(lockfile), `.aisc/signatures/${sha256}.sigstore.json`);
        await writeFileAtomic(path, bundle, { what: 'cosign signature' });
        if (signature.payload) await writeFileAtomic(`${path}.payload`, signature.payload, { what: 'cosign payload' });
        const recorded: ArtifactSignature = { bundle: toLockfileRelative(path, lockfile), bundleSha256: sha256, format: signature.payload ? 'message-signature' : 'dsse', signer: toRecordedSigner(signer, policy) };
        if (trustedRoot) recorded.trustedRoot = toLockfileRelative(trustedRoot, lockfile);
        return recorded;
      } catch (error) {
        if (!(error instanceof AiscError)) throw error;
        refusals.push(`${signature.where}: ${error.message.replace(`${spec}: ${signature.where}: `, '')}`);
      }
    }
  }
  const what = found.length === 0 ? `no cosign signature is attached to ${digest} (looked at ${looked.join(', ')})` : `none of the ${found.length} cosign signatures attached to ${digest} verifies for the signer given (${refusals.join('; ')})`;
  throw new SignatureFinding('SIGNATURE_MISSING', `${spec}: ${what}; nothing was locked`);
}
