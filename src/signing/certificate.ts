import type { X509Certificate } from 'node:crypto';
import { SignatureFinding } from './errors.js';

const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const MAX_DEPTH = 8;

/**
 * Builds and checks leaf → intermediates → one of `anchors` (a private CA given with
 * --certificate-chain): each signature, each validity period at `now`, CA flags on issuers,
 * and code signing on the leaf.
 */
export function verifyCertificateChain(leaf: X509Certificate, intermediates: X509Certificate[], anchors: X509Certificate[], now: Date): void {
  if (anchors.length === 0) throw new SignatureFinding('CERTIFICATE_INVALID', 'no trust anchor given (--certificate-chain)');
  const usage = leaf.keyUsage ?? [];
  if (!usage.includes(CODE_SIGNING)) throw new SignatureFinding('CERTIFICATE_INVALID', `the signing certificate is not for code signing (extended key usage: ${usage.join(', ') || 'none'})`);
  let current = leaf;
  for (let depth = 0; depth <= MAX_DEPTH; depth++) {
    checkValidity(current, now);
    const anchor = anchors.find((candidate) => isIssuedBy(current, candidate));
    if (anchor) {
      checkValidity(anchor, now);
      return;
    }
    const issuer = intermediates.find((candidate) => candidate !== current && isIssuedBy(current, candidate));
    if (!issuer) throw new SignatureFinding('CERTIFICATE_INVALID', `no chain from ${JSON.stringify(current.subject.replaceAll('\n', ', '))} to a trusted certificate`);
    if (!issuer.ca) throw new SignatureFinding('CERTIFICATE_INVALID', `${JSON.stringify(issuer.subject.replaceAll('\n', ', '))} issues certificates but is not a CA`);
    current = issuer;
  }
  throw new SignatureFinding('CERTIFICATE_INVALID', `certificate chain longer than ${MAX_DEPTH}`);
}

function isIssuedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey) && (issuer.ca || issuer === certificate);
  } catch {
    return false;
  }
}

function checkValidity(certificate: X509Certificate, now: Date): void {
  if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) {
    throw new SignatureFinding('CERTIFICATE_INVALID', `${JSON.stringify(certificate.subject.replaceAll('\n', ', '))} is valid from ${certificate.validFrom} to ${certificate.validTo}, not at ${now.toISOString()}`);
  }
}

/** Certificates in a PEM file (the trust anchors for --certificate-chain). */
export function splitPemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
