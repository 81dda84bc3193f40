import { AiscError } from '../errors.js';

/** A signature that does not verify, or verifies for someone else: a finding, exit 1. */
export type SignatureFindingCode =
  | 'SIGNATURE_INVALID'
  | 'SIGNER_MISMATCH'
  | 'DIGEST_MISMATCH'
  | 'SUBJECT_MISMATCH'
  | 'MANIFEST_MISMATCH'
  | 'CERTIFICATE_INVALID'
  | 'TLOG_INVALID'
  | 'TIMESTAMP_INVALID'
  | 'TRUST_ROOT_MISMATCH'
  | 'SIGNATURE_MISSING';

/** Unusable input around signatures: exit 2. */
export type SignatureInputCode = 'BUNDLE_INVALID' | 'BUNDLE_UNSUPPORTED' | 'KEY_INVALID' | 'KEY_UNSUPPORTED' | 'TRUST_ROOT_INVALID' | 'PAYLOAD_INVALID';

export class SignatureFinding extends AiscError<SignatureFindingCode> {}

export function isSignatureFinding(error: unknown): error is SignatureFinding {
  return error instanceof SignatureFinding;
}

export function signatureInputError(code: SignatureInputCode, message: string, cause?: unknown): AiscError<SignatureInputCode> {
  return new AiscError(code, message, { cause });
}

/** sigstore-js VerificationError codes, mapped to ours. */
export function fromSigstoreCode(code: string | undefined): SignatureFindingCode {
  switch (code) {
    case 'TLOG_ERROR':
    case 'TLOG_BODY_ERROR':
    case 'TLOG_INCLUSION_PROOF_ERROR':
    case 'TLOG_INCLUSION_PROMISE_ERROR':
    case 'TLOG_MISSING_INCLUSION_ERROR':
      return 'TLOG_INVALID';
    case 'TIMESTAMP_ERROR':
    case 'TSA_ERROR':
      return 'TIMESTAMP_INVALID';
    case 'CERTIFICATE_ERROR':
    case 'PUBLIC_KEY_ERROR':
      return 'CERTIFICATE_INVALID';
    case 'UNTRUSTED_SIGNER_ERROR':
      return 'SIGNER_MISMATCH';
    default:
      return 'SIGNATURE_INVALID';
  }
}
