import { X509Certificate } from 'node:crypto';
import { AiscError } from '../errors.js';
import { readBoundedText } from '../io/index.js';
import { splitPemCertificates } from './certificate.js';
import { signatureInputError } from './errors.js';
import { toKeylessIdentity, type IdentityFlags } from './identity.js';
import { readPublicKey } from './keys.js';
import { getPublicGoodTrustedRoot, readTrustedRoot } from './trust.js';
import type { SignerPolicy } from './verify-bundle.js';

export interface SignerFlags extends IdentityFlags {
  key?: string;
  certificateChain?: string;
  trustedRoot?: string;
}

/** Exactly one way to say who must have signed: identity flags, --key, or --certificate-chain. */
export async function toSignerPolicy(flags: SignerFlags): Promise<SignerPolicy> {
  const identity = toKeylessIdentity(flags);
  const given = [identity && 'identity flags', flags.key && '--key', flags.certificateChain && '--certificate-chain'].filter(Boolean);
  if (given.length !== 1) {
    throw new AiscError('USAGE', `expected one of --certificate-identity/--certificate-oidc-issuer, --key or --certificate-chain, got ${given.length === 0 ? 'none' : given.join(' and ')}`);
  }
  if (flags.certificateChain) return { kind: 'certificate', anchors: await readCertificates(flags.certificateChain) };
  const trustedRoot = flags.trustedRoot ? await readTrustedRoot(flags.trustedRoot) : getPublicGoodTrustedRoot();
  if (flags.key) return { kind: 'key', key: await readPublicKey(flags.key), trustedRoot };
  if (!identity) throw new AiscError('INTERNAL', 'no signer policy');
  return { kind: 'keyless', identity, trustedRoot };
}

async function readCertificates(path: string): Promise<X509Certificate[]> {
  const text = await readBoundedText(path, { limit: 1024 * 1024, what: 'certificate file' }).catch((error: unknown) => {
    throw signatureInputError('KEY_INVALID', `${path}: cannot read (${(error as Error).message})`, error);
  });
  const pems = splitPemCertificates(text);
  if (pems.length === 0) throw signatureInputError('KEY_INVALID', `${path}: expected PEM certificates, got none`);
  return pems.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (error) {
      throw signatureInputError('KEY_INVALID', `${path}: certificate ${i + 1} does not parse (${(error as Error).message})`, error);
    }
  });
}
