import { verify as cryptoVerify, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Envelope } from '@sigstore/bundle';
import { dsse } from '@sigstore/core';
import { createHash } from 'node:crypto';
import { getKeyHash } from './keys.js';

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
 * A DSSE envelope, verified with the hash of the key's own curve (a P-384 key signs with
 * SHA-384, as model_signing does; sigstore-js would always use SHA-256).
 */
export class DsseContent implements SignatureContent {
  constructor(private readonly envelope: Envelope) {}

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
    try {
      return cryptoVerify(getKeyHash(key) ?? null, this.pae, key, this.signature);
    } catch {
      return false;
    }
  }
}
