import type { SignatureReport, VerifiedSigner } from '../signing/index.js';

export type SignatureFormat = 'human' | 'json';

export function renderSignatureReport(report: SignatureReport, format: SignatureFormat): string {
  if (format === 'json') return `${JSON.stringify({ reportVersion: 1, ...report }, null, 2)}\n`;
  if (report.ok && report.signer) return `verified ${report.path}: ${describeSigner(report.signer)} (${report.content}, bundle ${report.bundle})\n`;
  const lines = [`FAIL ${report.path} (${report.content}, bundle ${report.bundle})${report.signer ? `: ${describeSigner(report.signer)}, but` : ''}`];
  for (const finding of report.findings) lines.push(`       ${finding.code}${finding.path === undefined ? '' : ` ${finding.path}`}: ${finding.message}`);
  return `${lines.join('\n')}\n`;
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
