import type { X509Certificate } from 'node:crypto';
import { X509Certificate as SigstoreCertificate } from '@sigstore/core';
import { SignatureFinding } from './errors.js';

const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const MAX_DEPTH = 8;

/**
 * Builds and checks leaf → intermediates → one of `anchors` (a private CA given with
 * --certificate-chain): each signature, each validity period at `now`, CA flags on issuers,
 * and code signing on the leaf. An anchor byte-identical to a certificate of the path is trusted
 * as it stands: a self-signed leaf given as its own anchor is the whole chain.
 */
export function verifyCertificateChain(leaf: X509Certificate, intermediates: X509Certificate[], anchors: X509Certificate[], now: Date): void {
  if (anchors.length === 0) throw new SignatureFinding('CERTIFICATE_INVALID', 'no trust anchor given (--certificate-chain)');
  const problem = getSigningUsageProblem(leaf);
  if (problem) throw new SignatureFinding('CERTIFICATE_INVALID', `the signing certificate ${problem}`);
  let current = leaf;
  for (let depth = 0; depth <= MAX_DEPTH; depth++) {
    checkValidity(current, now);
    if (anchors.some((anchor) => anchor.raw.equals(current.raw))) return;
    const anchor = anchors.find((candidate) => isIssuedBy(current, candidate));
    if (anchor) {
      checkValidity(anchor, now);
      return;
    }
    const issuer = intermediates.find((candidate) => !candidate.raw.equals(current.raw) && isIssuedBy(current, candidate));
    if (!issuer) throw new SignatureFinding('CERTIFICATE_INVALID', `no chain from ${describe(current)} to a trusted certificate`);
    current = issuer;
  }
  throw new SignatureFinding('CERTIFICATE_INVALID', `certificate chain longer than ${MAX_DEPTH}`);
}

/**
 * Why a leaf may not sign models, or undefined when it may. model_signing takes KeyUsage
 * digitalSignature or ExtendedKeyUsage codeSigning; aisc takes codeSigning, or digitalSignature
 * when no extended key usage is named at all. An extended key usage without codeSigning (a TLS
 * server certificate, say) restricts the key to other purposes, so it is refused even when
 * digitalSignature is set; and a KeyUsage without digitalSignature means the key makes no
 * signatures, whatever the extended usage says (RFC 5280 §4.2.1.12: the two must agree).
 */
export function getSigningUsageProblem(leaf: X509Certificate): string | undefined {
  const extended = leaf.keyUsage;
  const usage = readKeyUsage(leaf);
  if (usage && !usage.digitalSignature) return 'has a key usage without digitalSignature';
  if (extended) return extended.includes(CODE_SIGNING) ? undefined : `is not for code signing (extended key usage: ${extended.join(', ') || 'none'})`;
  return usage ? undefined : 'names neither a code-signing extended key usage nor a digitalSignature key usage';
}

/** The KeyUsage bits Node's X509Certificate does not expose, or undefined without the extension. */
function readKeyUsage(certificate: X509Certificate): { digitalSignature: boolean; keyCertSign: boolean } | undefined {
  let usage;
  try {
    usage = SigstoreCertificate.parse(certificate.raw).extKeyUsage;
  } catch {
    // Node parsed it; a KeyUsage sigstore cannot read is no usage at all.
    return { digitalSignature: false, keyCertSign: false };
  }
  return usage && { digitalSignature: usage.digitalSignature, keyCertSign: usage.keyCertSign };
}

/**
 * Whether `issuer` signed `certificate` and may issue certificates: a CA (basic constraints)
 * whose key usage, when it has one, includes keyCertSign.
 */
export function isIssuedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return issuer.ca && (readKeyUsage(issuer)?.keyCertSign ?? true) && certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function checkValidity(certificate: X509Certificate, now: Date): void {
  const problem = getValidityProblem(certificate, now);
  if (problem) throw new SignatureFinding('CERTIFICATE_INVALID', problem);
}

/**
 * What is wrong with a signing chain as given (leaf, then each issuer in turn), or undefined:
 * the leaf may sign code, every certificate is valid at `now`, and each is issued by the next.
 * Checked before signing, so a bundle no verifier would accept is never written.
 */
export function getSigningChainProblem(chain: readonly X509Certificate[], now: Date): string | undefined {
  const [leaf] = chain;
  if (!leaf) return 'no certificate';
  const usage = getSigningUsageProblem(leaf);
  if (usage) return `${describe(leaf)} ${usage}`;
  for (const [i, certificate] of chain.entries()) {
    const validity = getValidityProblem(certificate, now);
    if (validity) return validity;
    const next = chain[i + 1];
    if (next && !isIssuedBy(certificate, next)) return `${describe(certificate)} is not issued by the next certificate of the chain, ${describe(next)} (give the chain leaf first, each certificate followed by its issuer, issuers being CAs)`;
  }
  return undefined;
}

export function getValidityProblem(certificate: X509Certificate, now: Date): string | undefined {
  if (now >= new Date(certificate.validFrom) && now <= new Date(certificate.validTo)) return undefined;
  return `${describe(certificate)} is valid from ${certificate.validFrom} to ${certificate.validTo}, not at ${now.toISOString()}`;
}

export function describe(certificate: X509Certificate): string {
  return JSON.stringify(certificate.subject.replaceAll('\n', ', '));
}

/** Certificates in a PEM file (the trust anchors for --certificate-chain). */
export function splitPemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
