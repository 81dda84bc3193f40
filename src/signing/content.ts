import { verify as cryptoVerify, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Envelope } from '@sigstore/bundle';
import { dsse } from '@sigstore/core';
import { createHash } from 'node:crypto';
import { getKeyHash } from './keys.js';
import { IN_TOTO_PAYLOAD_TYPE } from './statement.js';

/** What @sigstore/verify's Verifier asks of signed content (its SignatureContent type). */
export interface SignatureContent {
  signature: Buffer;
  compareSignature(signature: Buffer): boolean;
  compareDigest(digest: Buffer): boolean;
  compareSignedDigest(digest: Buffer): boolean;
  verifySignature(key: KeyObject): boolean;
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A message signature over a file that was streamed once: the digest and the signature check
 * were computed while reading, so the file is never held in memory. The result holds for the one
 * key it was computed with.
 */
export class StreamedMessageContent implements SignatureContent {
  constructor(
    readonly signature: Buffer,
    private readonly digest: Buffer,
    private readonly checkedKey: KeyObject,
    private readonly valid: boolean,
  ) {}

  compareSignature(signature: Buffer): boolean {
    return equal(signature, this.signature);
  }

  compareDigest(digest: Buffer): boolean {
    return equal(digest, this.digest);
  }

  compareSignedDigest(digest: Buffer): boolean {
    return this.compareDigest(digest);
  }

  verifySignature(key: KeyObject): boolean {
    return this.valid && key.equals(this.checkedKey);
  }
}

/**
 * How model_signing v0.2 signed (its v0.1 predicate): over a mis-encoded PAE, `DSSEV1 … b'…'`
 * with the payload as Python's bytes repr, and — with a certificate — always SHA-256. Its
 * verifier still accepts these; so does aisc, for that predicate only.
 */
export type DsseCompat = 'model-signing-v0.2-key' | 'model-signing-v0.2-certificate';

/**
 * A DSSE envelope, verified with the hash of the key's own curve (a P-384 key signs with
 * SHA-384, as model_signing does; sigstore-js would always use SHA-256).
 */
export class DsseContent implements SignatureContent {
  constructor(
    private readonly envelope: Envelope,
    private readonly compat?: DsseCompat,
  ) {}

  get signature(): Buffer {
    return this.envelope.signatures[0]?.sig ?? Buffer.alloc(0);
  }

  private get pae(): Buffer {
    return dsse.preAuthEncoding(this.envelope.payloadType, this.envelope.payload);
  }

  compareSignature(signature: Buffer): boolean {
    return equal(signature, this.signature);
  }

  compareDigest(digest: Buffer): boolean {
    return equal(digest, createHash('sha256').update(this.envelope.payload).digest());
  }

  compareSignedDigest(digest: Buffer): boolean {
    return equal(digest, createHash('sha256').update(this.pae).digest());
  }

  verifySignature(key: KeyObject): boolean {
    if (this.envelope.signatures.length !== 1) return false;
    if (verifyOrFalse(getKeyHash(key) ?? null, this.pae, key, this.signature)) return true;
    if (this.compat === undefined) return false;
    const hash = this.compat === 'model-signing-v0.2-certificate' ? 'sha256' : (getKeyHash(key) ?? null);
    return verifyOrFalse(hash, toCompatPae(this.envelope.payload), key, this.signature);
  }
}

function verifyOrFalse(hash: string | null, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return cryptoVerify(hash, data, key, signature);
  } catch {
    return false;
  }
}

/** model_signing v0.2's PAE: a capital V, and the payload spliced in as Python prints bytes. */
export function toCompatPae(payload: Buffer): Buffer {
  return Buffer.from(`DSSEV1 ${IN_TOTO_PAYLOAD_TYPE.length} ${IN_TOTO_PAYLOAD_TYPE} ${payload.length} ${toPythonBytesRepr(payload)}`, 'utf8');
}

/** CPython's repr() of a bytes object: b'…' (or b"…" when only ' occurs), \t \n \r \\, \xNN outside printable ASCII. */
export function toPythonBytesRepr(bytes: Uint8Array): string {
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? 0x22 : 0x27;
  let text = '';
  for (const byte of bytes) {
    if (byte === quote || byte === 0x5c) text += `\\${String.fromCharCode(byte)}`;
    else if (byte === 0x09) text += '\\t';
    else if (byte === 0x0a) text += '\\n';
    else if (byte === 0x0d) text += '\\r';
    else if (byte < 0x20 || byte >= 0x7f) text += `\\x${byte.toString(16).padStart(2, '0')}`;
    else text += String.fromCharCode(byte);
  }
  return `b${String.fromCharCode(quote)}${text}${String.fromCharCode(quote)}`;
}
