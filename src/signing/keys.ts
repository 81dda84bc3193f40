import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readBoundedText } from '../io/index.js';
import { signatureInputError } from './errors.js';

export type DigestName = 'sha256' | 'sha384' | 'sha512';

const CURVE_HASH = new Map<string, DigestName>([
  ['prime256v1', 'sha256'],
  ['secp384r1', 'sha384'],
  ['secp521r1', 'sha512'],
]);

/**
 * A PEM public key: ECDSA P-256/P-384/P-521 or Ed25519. Text before `-----BEGIN` is tolerated,
 * as OpenSSL does (keys pasted with a comment above them).
 */
export async function readPublicKey(path: string): Promise<KeyObject> {
  let text: string;
  try {
    text = await readBoundedText(path, { limit: 64 * 1024, what: 'key' });
  } catch (error) {
    throw signatureInputError('KEY_INVALID', `${path}: cannot read the key (${(error as Error).message})`, error);
  }
  return toPublicKey(text, path);
}

export function toPublicKey(text: string, where: string): KeyObject {
  const begin = text.indexOf('-----BEGIN');
  if (begin < 0) throw signatureInputError('KEY_INVALID', `${where}: expected a PEM public key, got no -----BEGIN line`);
  let key: KeyObject;
  try {
    key = createPublicKey(text.slice(begin));
  } catch (error) {
    throw signatureInputError('KEY_INVALID', `${where}: expected a PEM public key (${(error as Error).message})`, error);
  }
  assertSupportedKey(key, where);
  return key;
}

export function assertSupportedKey(key: KeyObject, where: string): void {
  if (key.asymmetricKeyType === 'ed25519') return;
  if (key.asymmetricKeyType === 'ec' && CURVE_HASH.has(key.asymmetricKeyDetails?.namedCurve ?? '')) return;
  const what = key.asymmetricKeyType === 'ec' ? `EC ${key.asymmetricKeyDetails?.namedCurve ?? '?'}` : (key.asymmetricKeyType ?? 'unknown');
  throw signatureInputError('KEY_UNSUPPORTED', `${where}: expected an ECDSA P-256/P-384/P-521 or Ed25519 key, got ${what}`);
}

/** The hash an ECDSA key signs with (its curve's own), or undefined for Ed25519 (no prehash). */
export function getKeyHash(key: KeyObject): DigestName | undefined {
  if (key.asymmetricKeyType === 'ed25519') return undefined;
  return CURVE_HASH.get(key.asymmetricKeyDetails?.namedCurve ?? '') ?? 'sha256';
}

/** SHA-256 of the key's DER SubjectPublicKeyInfo: the fingerprint recorded for key signers. */
export function getKeyFingerprint(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}
