import { verify } from 'node:crypto';
import type { RegistryKey } from './registry-keys.js';

export interface RegistrySignature {
  keyid: string;
  sig: string;
}

export type SignatureStatus =
  | { status: 'verified'; keyid: string; sig: string }
  | { status: 'unsigned'; reason: string }
  | { status: 'invalid' | 'unknown-key' | 'key-expired'; keyid?: string; reason: string };

/**
 * What `npm audit signatures` checks: an ECDSA signature by a registry key over
 * `${name}@${version}:${integrity}`, the key chosen by its id, and valid when the version was
 * published. One valid signature by a known key suffices; any signature that is bad is reported.
 */
export function verifyRegistrySignature(
  pkg: { name: string; version: string; integrity: string; publishedAt?: Date },
  signatures: readonly RegistrySignature[] | undefined,
  keys: readonly RegistryKey[],
): SignatureStatus {
  if (!signatures || signatures.length === 0) return { status: 'unsigned', reason: 'the registry returned no dist.signatures for this version' };
  const message = Buffer.from(`${pkg.name}@${pkg.version}:${pkg.integrity}`);
  let problem: SignatureStatus | undefined;
  for (const { keyid, sig } of signatures) {
    const key = keys.find((k) => k.keyId === keyid && k.usage === 'npm:signatures');
    if (!key) {
      problem ??= { status: 'unknown-key', keyid, reason: `signed by ${keyid}, which is not an npm registry key aisc trusts` };
      continue;
    }
    const when = pkg.publishedAt;
    if (!when || when < key.start || (key.end && when > key.end)) {
      problem = { status: 'key-expired', keyid, reason: `key ${keyid} is valid ${key.start.toISOString()} to ${key.end?.toISOString() ?? 'now'}; the version was published ${when?.toISOString() ?? 'at an unknown time'}` };
      continue;
    }
    if (verifiesWith(message, key, sig)) return { status: 'verified', keyid, sig };
    problem = { status: 'invalid', keyid, reason: `the signature by ${keyid} does not verify over ${pkg.name}@${pkg.version}:${pkg.integrity}` };
  }
  return problem ?? { status: 'unsigned', reason: 'no usable signature' };
}

function verifiesWith(message: Buffer, key: RegistryKey, sig: string): boolean {
  try {
    return verify('sha256', message, key.key, Buffer.from(sig, 'base64'));
  } catch {
    return false;
  }
}
