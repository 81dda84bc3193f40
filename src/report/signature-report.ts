import type { SignatureReport, VerifiedSigner } from '../signing/index.js';

export type SignatureFormat = 'human' | 'json';

export function renderSignatureReport(report: SignatureReport, format: SignatureFormat): string {
  if (format === 'json') return `${JSON.stringify({ reportVersion: 1, ...report }, null, 2)}\n`;
  if (report.ok && report.signer) return `verified ${report.path}: ${describeSigner(report.signer)} (${report.content}, bundle ${report.bundle})\n`;
  return `FAIL ${report.path}: ${report.finding?.code ?? 'SIGNATURE_INVALID'} ${report.finding?.message ?? ''} (bundle ${report.bundle})\n`;
}

export function describeSigner(signer: VerifiedSigner): string {
  switch (signer.kind) {
    case 'keyless':
      return `signed by ${signer.identity} (issuer ${signer.issuer})`;
    case 'key':
      return `signed by key sha256:${signer.keyFingerprint}`;
    case 'certificate':
      return `signed by certificate ${signer.subject} (sha256:${signer.certificateFingerprint})`;
    default: {
      const never: never = signer;
      return never;
    }
  }
}
