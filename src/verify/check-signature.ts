import { createHash } from 'node:crypto';
import { isAiscError } from '../errors.js';
import type { BundleFile } from '../signing/bundle.js';
import { isSignatureFinding } from '../signing/errors.js';
import type { ArtifactCheck } from './check-artifact.js';
import { toFinding, type FindingCode } from '../findings.js';
import { toCanonicalJson } from '../lockfile/canonical-json.js';
import { describeRecordedSigner } from '../lockfile/signer.js';
import { toRecorded } from '../sources/index.js';

/**
 * Re-verifies each signature pinned at lock time, offline: the bundle is still there and is the
 * one recorded (same SHA-256), it still verifies for the recorded signer and nobody else, and its
 * manifest is the locked file list. Sigstore's libraries load only when something is signed.
 */
export async function checkSignatures(checks: readonly ArtifactCheck[], lockfilePath: string): Promise<void> {
  const signed = checks.filter((check) => check.artifact.signature);
  if (signed.length === 0) return;
  const { fromLockfileRelative, toRecordedPolicy, verifyArtifactSignature } = await import('../signing/artifact-signature.js');
  const { readBundleFile } = await import('../signing/bundle.js');
  for (const check of signed) {
    const signature = check.artifact.signature;
    if (!signature) continue;
    const add = (code: FindingCode, message: string): void => {
      check.findings.push(toFinding({ artifact: check.name, code, message }));
    };
    // Read once, bounded: the bytes compared with the locked SHA-256 are the bytes verified.
    const bundlePath = fromLockfileRelative(signature.bundle, lockfilePath);
    let file: BundleFile;
    try {
      file = await readBundleFile(bundlePath);
    } catch (error) {
      const gone = isAiscError(error) && isAiscError(error.cause) && error.cause.code === 'FILE_NOT_FOUND';
      if (gone) add('SIGNATURE_MISSING', `the signature bundle ${signature.bundle} is gone; the artifact was locked as signed`);
      else add('SIGNATURE_INVALID', `${signature.bundle}: ${(error as Error).message.replace(`${bundlePath}: `, '')}`);
      continue;
    }
    const sha256 = createHash('sha256').update(file.bytes).digest('hex');
    if (sha256 !== signature.bundleSha256) {
      add('SIGNATURE_CHANGED', `the bundle ${signature.bundle} is not the one locked (sha256 ${sha256}, locked ${signature.bundleSha256})`);
      continue;
    }
    try {
      const policy = await toRecordedPolicy(signature, lockfilePath);
      // A signature attached to the origin (cosign's on an OCI manifest) signs its pin; one found inside the artifact signs the files.
      const recorded = toRecorded(check.artifact.source);
      const subject = signature.path === undefined ? recorded.signedDigest : undefined;
      // A selection of the origin's files (a Hub repo's --include) need not lock every signed file, as at lock.
      const selected = recorded.mounted().selected;
      const artifact = { layout: check.artifact.layout, path: check.root, files: check.artifact.files, ...(subject === undefined ? {} : { subject }), ...(selected ? { selected } : {}) };
      const verified = await verifyArtifactSignature(artifact, file, policy, lockfilePath);
      // The lockfile's words about the signer are what the policy judges: they must be who signed
      // (a key fingerprint that is not the recorded key's, a subject that is not the certificate's).
      if (toCanonicalJson(verified.signer) !== toCanonicalJson(signature.signer)) {
        add('SIGNER_MISMATCH', `${signature.bundle}: the lockfile records ${describeRecordedSigner(signature.signer)} as the signer; the bundle verifies for ${describeRecordedSigner(verified.signer)}${describeRecordedSigner(signature.signer) === describeRecordedSigner(verified.signer) ? ' (with another recorded key or CA)' : ''}`);
      }
    } catch (error) {
      if (!isAiscError(error) || error.code === 'INTERNAL') throw error;
      // Findings keep their code; a bundle or key that no longer reads is a failed signature too.
      add(isSignatureFinding(error) ? error.code : 'SIGNATURE_INVALID', `${signature.bundle}: ${error.message}`);
    }
  }
}

