import { createHash, createVerify, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { open } from 'node:fs/promises';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import type { Bundle } from '@sigstore/bundle';
import { AiscError, errnoCode } from '../errors.js';
import type { HashFailureCode, SignatureFindingCode } from '../findings.js';
import { getBundlePath, readBundle, type BundleRef } from './bundle.js';
import { DsseContent, StreamedMessageContent, type SignatureContent } from './content.js';
import { isSignatureFinding, SignatureFinding, signatureInputError } from './errors.js';
import { getKeyHash, type DigestName } from './keys.js';
import { parseStatement, type InTotoStatement } from './statement.js';
import { getSigningKey, verifyBundle, type SignerPolicy, type VerifiedSigner } from './verify-bundle.js';

/** Ed25519 signs the whole message at once; past this size such a file is refused, not loaded. */
const MAX_ED25519_MESSAGE_BYTES = 256 * 1024 * 1024;
const READ_BYTES = 1024 * 1024;

export interface SignatureReport {
  ok: boolean;
  path: string;
  bundle: string;
  /** SHA-256 of the bundle file as read. */
  bundleSha256: string;
  content: 'message-signature' | 'dsse' | 'model-signing';
  /** The file's SHA-256, or the model's root digest. */
  sha256?: string;
  signer?: VerifiedSigner;
  /** What does not verify (a model folder's files by path); each code a finding code. */
  findings: { code: SignatureFindingCode | HashFailureCode; message: string; path?: string }[];
}

const DIGESTS: Partial<Record<HashAlgorithm, DigestName>> = {
  [HashAlgorithm.SHA2_256]: 'sha256',
  [HashAlgorithm.SHA2_384]: 'sha384',
  [HashAlgorithm.SHA2_512]: 'sha512',
};

/**
 * Verifies a bundle over one file: a message signature (cosign sign-blob) or a DSSE in-toto
 * statement whose subject is the file. The file is read once, as a stream.
 */
export async function verifyFileSignature(path: string, bundleRef: BundleRef, policy: SignerPolicy): Promise<SignatureReport> {
  return verifyChunksSignature(path, (size) => Promise.resolve(readFileChunks(path, size)), bundleRef, policy);
}

/**
 * The same over bytes already in memory (a lockfile read once, so that what is verified is what
 * is then parsed).
 */
export async function verifyBytesSignature(data: Buffer, where: string, bundleRef: BundleRef, policy: SignerPolicy): Promise<SignatureReport> {
  return verifyChunksSignature(where, async (size) => {
    size(data.length);
    await Promise.resolve();
    return [data];
  }, bundleRef, policy);
}

/** Yields a file's bytes in order; `size` is told the total first. */
type ChunkSource = (size: (bytes: number) => void) => Promise<AsyncIterable<Buffer> | Iterable<Buffer>>;

async function verifyChunksSignature(path: string, source: ChunkSource, bundleRef: BundleRef, policy: SignerPolicy): Promise<SignatureReport> {
  const { bundle, bytes } = await readBundle(bundleRef, { allowV03CertificateChain: policy.kind !== 'keyless' });
  const base = { path, bundle: getBundlePath(bundleRef), bundleSha256: createHash('sha256').update(bytes).digest('hex') };
  const contentKind = bundle.content.$case === 'dsseEnvelope' ? 'dsse' : 'message-signature';
  let sha256: string | undefined;
  try {
    const { content, digest } = await toFileContent(source, bundle, policy);
    sha256 = digest;
    const signer = verifyBundle(bundle, content, policy);
    return { ok: true, ...base, content: contentKind, sha256, signer, findings: [] };
  } catch (error) {
    if (!isSignatureFinding(error)) throw error;
    return { ok: false, ...base, content: contentKind, sha256, findings: [{ code: error.code, message: error.message }] };
  }
}

async function toFileContent(source: ChunkSource, bundle: Bundle, policy: SignerPolicy): Promise<{ content: SignatureContent; digest: string }> {
  switch (bundle.content.$case) {
    case 'dsseEnvelope': {
      const digest = (await streamChunks(source, [])).sha256;
      checkSubject(parseStatement(bundle.content.dsseEnvelope), digest);
      return { content: new DsseContent(bundle.content.dsseEnvelope), digest };
    }
    case 'messageSignature': {
      const { signature, messageDigest } = bundle.content.messageSignature;
      const algorithm = DIGESTS[messageDigest?.algorithm ?? HashAlgorithm.SHA2_256];
      if (!algorithm || !messageDigest) throw signatureInputError('BUNDLE_UNSUPPORTED', `message digest algorithm ${messageDigest?.algorithm ?? 'none'} is not supported`);
      const key = getSigningKey(bundle, policy);
      const streamed = await streamChunks(source, [algorithm], { key, signature });
      const digest = streamed.digests[algorithm] ?? Buffer.alloc(0);
      if (!digest.equals(messageDigest.digest)) {
        throw new SignatureFinding('DIGEST_MISMATCH', `the bundle signs ${algorithm}:${messageDigest.digest.toString('hex')}; the file is ${algorithm}:${digest.toString('hex')}`);
      }
      return { content: new StreamedMessageContent(signature, digest, key, streamed.valid), digest: streamed.sha256 };
    }
    default: {
      const never: never = bundle.content;
      return never;
    }
  }
}

function checkSubject(statement: InTotoStatement, sha256: string): void {
  if (!statement.subject.some((subject) => subject.digest.sha256 === sha256)) {
    const signed = statement.subject.map((s) => `${s.name}@sha256:${s.digest.sha256 ?? '?'}`).join(', ');
    throw new SignatureFinding('SUBJECT_MISMATCH', `the statement is about ${signed || 'nothing'}; the file is sha256:${sha256}`);
  }
}

interface Streamed {
  sha256: string;
  digests: Partial<Record<DigestName, Buffer>>;
  valid: boolean;
}

async function* readFileChunks(path: string, size: (bytes: number) => void): AsyncIterable<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new AiscError('SOURCE_NOT_FOUND', `${path}: cannot open (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new AiscError('NOT_A_FILE', `${path}: expected a file`);
    size(stats.size);
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** One pass over the bytes: SHA-256, any other digest asked, and the signature check if a key is given. */
async function streamChunks(source: ChunkSource, algorithms: DigestName[], check?: { key: KeyObject; signature: Buffer }): Promise<Streamed> {
  const sha256 = createHash('sha256');
  const others = algorithms.filter((a) => a !== 'sha256').map((a) => [a, createHash(a)] as const);
  const keyHash = check ? getKeyHash(check.key) : undefined;
  const ed25519 = check !== undefined && keyHash === undefined;
  const verifier = check && !ed25519 ? createVerify(algorithms[0] ?? 'sha256') : undefined;
  const whole: Buffer[] = [];
  const chunks = await source((bytes) => {
    if (ed25519 && bytes > MAX_ED25519_MESSAGE_BYTES) {
      throw signatureInputError('KEY_UNSUPPORTED', `Ed25519 signs the whole message; files over ${MAX_ED25519_MESSAGE_BYTES} bytes are not loaded to check it`);
    }
  });
  for await (const chunk of chunks) {
    sha256.update(chunk);
    for (const [, hash] of others) hash.update(chunk);
    verifier?.update(chunk);
    if (ed25519) whole.push(Buffer.from(chunk));
  }
  const digests: Partial<Record<DigestName, Buffer>> = { sha256: sha256.digest() };
  for (const [name, hash] of others) digests[name] = hash.digest();
  let valid = false;
  if (check) {
    try {
      valid = verifier ? verifier.verify(check.key, check.signature) : cryptoVerify(null, Buffer.concat(whole), check.key, check.signature);
    } catch {
      valid = false;
    }
  }
  return { sha256: (digests.sha256 ?? Buffer.alloc(0)).toString('hex'), digests, valid };
}
