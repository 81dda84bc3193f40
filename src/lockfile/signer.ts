import type { RecordedSigner } from './types.js';

/** One line naming a recorded signer: an identity and its issuer, a key or a certificate by fingerprint. */
export function describeRecordedSigner(signer: RecordedSigner): string {
  switch (signer.kind) {
    case 'keyless':
      return `${signer.identity} (issuer ${signer.issuer})`;
    case 'key':
      return `key sha256:${signer.keyFingerprint}`;
    case 'certificate':
      return `certificate ${signer.subject} (sha256:${signer.certificateFingerprint})`;
    default: {
      const never: never = signer;
      return never;
    }
  }
}
