import { createHash, createPrivateKey, createPublicKey, createSign, sign as cryptoSign, X509Certificate, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { dsse } from '@sigstore/core';
import { AiscError } from '../errors.js';
import { acquireHashPool } from '../hashing/index.js';
import { computeRootDigest, getPathProblem } from '../lockfile/index.js';
import { readBoundedText } from '../io/index.js';
import { DEFAULT_IGNORED, listTarget, resolveLocalTarget } from '../sources/index.js';
import { describe, getSigningChainProblem, splitPemCertificates } from './certificate.js';
import { signatureInputError } from './errors.js';
import { assertSupportedKey, getKeyHash } from './keys.js';
import { IN_TOTO_PAYLOAD_TYPE } from './statement.js';
import { toOmsStatement } from './oms.js';
import { resolveModelPaths } from './verify-model.js';

const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
const HASH_ENUM = { sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' } as const;

/** A PEM private key (PKCS#8 or SEC1), ECDSA P-256/P-384/P-521 or Ed25519; encrypted keys are refused. */
export async function readPrivateKey(path: string): Promise<KeyObject> {
  const text = await readBoundedText(path, { limit: 64 * 1024, what: 'key' }).catch((error: unknown) => {
    throw signatureInputError('KEY_INVALID', `${path}: cannot read the key (${(error as Error).message})`, error);
  });
  if (/ENCRYPTED/.test(text)) throw signatureInputError('KEY_UNSUPPORTED', `${path}: encrypted private keys are not supported; give an unencrypted PEM (from a secret store)`);
  const begin = text.indexOf('-----BEGIN');
  let key: KeyObject;
  try {
    key = createPrivateKey(text.slice(Math.max(0, begin)));
  } catch (error) {
    throw signatureInputError('KEY_INVALID', `${path}: expected a PEM private key (${(error as Error).message})`, error);
  }
  assertSupportedKey(createPublicKey(key), path);
  return key;
}

/** ECDSA with the curve's own hash (P-384 → SHA-384, as model_signing signs), Ed25519 pure. */
function signBytes(data: Buffer, key: KeyObject): Buffer {
  return cryptoSign(getKeyHash(createPublicKey(key)) ?? null, data, key);
}

/**
 * The key hint model_signing writes and checks: the hex SHA-256 of the public key's PEM
 * SubjectPublicKeyInfo text (its verifier refuses a bundle whose hint is anything else).
 */
export function getModelSigningKeyHint(key: KeyObject): string {
  return createHash('sha256').update(createPublicKey(key).export({ type: 'spki', format: 'pem' })).digest('hex');
}

function keyMaterial(key: KeyObject): object {
  return { publicKey: { hint: getModelSigningKeyHint(key) }, tlogEntries: [] };
}

/** What model_signing's certificate signer writes: the leaf, then the chain as given, DER in base64, no log entries. */
function certificateMaterial(chain: readonly X509Certificate[]): object {
  return { x509CertificateChain: { certificates: chain.map((c) => ({ rawBytes: c.raw.toString('base64') })) }, tlogEntries: [] };
}

/**
 * --certificate and --certificate-chain as model_signing's certificate mode takes them: an ECDSA
 * key (P-256/P-384/P-521), the leaf certificate of that key, then the chain files' certificates
 * in the order given. The chain is checked here, before anything is hashed or signed: the leaf
 * may sign code, every certificate is valid now, and each is issued by the next.
 */
export async function readSigningChain(key: KeyObject, keyPath: string, certificatePath: string, chainPaths: readonly string[] = [], now = new Date()): Promise<X509Certificate[]> {
  const publicKey = createPublicKey(key);
  if (publicKey.asymmetricKeyType !== 'ec') {
    throw signatureInputError('KEY_UNSUPPORTED', `${keyPath}: certificate signing takes an ECDSA P-256, P-384 or P-521 key (as model_signing's certificate mode), got ${publicKey.asymmetricKeyType ?? 'unknown'}`);
  }
  const [leaf, ...more] = await readCertificateFile(certificatePath);
  if (!leaf || more.length > 0) throw new AiscError('CERTIFICATE_INVALID', `${certificatePath}: expected one signing certificate, got ${more.length + 1} (give the rest with --certificate-chain)`);
  if (!leaf.publicKey.equals(publicKey)) throw signatureInputError('KEY_INVALID', `${keyPath}: the private key does not match the public key of the certificate ${describe(leaf)} (${certificatePath})`);
  const chain = [leaf];
  for (const path of chainPaths) chain.push(...(await readCertificateFile(path)));
  const problem = getSigningChainProblem(chain, now);
  if (problem) throw new AiscError('CERTIFICATE_INVALID', `${certificatePath}: ${problem}`);
  return chain;
}

/** Every PEM certificate in a file, in order; at least one, each parsed. */
async function readCertificateFile(path: string): Promise<X509Certificate[]> {
  const pems = splitPemCertificates(await readBoundedText(path, { limit: 1024 * 1024, what: 'certificate file' }));
  if (pems.length === 0) throw new AiscError('CERTIFICATE_INVALID', `${path}: expected PEM certificates (-----BEGIN CERTIFICATE-----), got none`);
  return pems.map((pem, i) => {
    try {
      const certificate = new X509Certificate(pem);
      void certificate.publicKey;
      return certificate;
    } catch (error) {
      throw new AiscError('CERTIFICATE_INVALID', `${path}: certificate ${i + 1} does not parse (${(error as Error).message})`, { cause: error });
    }
  });
}

/**
 * Signs a model folder in the OpenSSF Model Signing v1.0 format: an in-toto statement over every
 * file (sha256, 'files' method, resources in code-point order, ignore_paths signed), in a DSSE
 * envelope, in a Sigstore bundle v0.3 with no log entries: model_signing's key hint, or with
 * `chain` (from readSigningChain) the certificate chain, as model_signing's certificate mode.
 */
export async function signModel(folder: string, key: KeyObject, options: ModelStatementOptions, chain?: readonly X509Certificate[]): Promise<object> {
  return toDsseBundle(await toModelStatement(folder, options), key, chain);
}

export interface ModelStatementOptions {
  /** Where the bundle goes: left out of the model when it is inside. */
  output: string;
  jobs?: number;
  /** --ignore-paths, from the working folder (or absolute): left out, and signed as ignore_paths. */
  ignorePaths?: readonly string[];
  /** Leave git metadata out (default true), as model_signing does. */
  ignoreGitPaths?: boolean;
  cwd?: string;
}

/** The OMS statement for a folder (or a single-file model), as the bytes to put in the envelope. */
export async function toModelStatement(folder: string, options: ModelStatementOptions): Promise<Buffer> {
  const target = resolveLocalTarget(folder);
  const given = target.layout === 'directory' ? resolveModelPaths(target.realRoot, [...(options.ignorePaths ?? []), options.output], options.cwd) : [];
  const ignorePaths = [...new Set([...(options.ignoreGitPaths === false ? [] : DEFAULT_IGNORED), ...given])];
  const ignored = (p: string): boolean => ignorePaths.some((i) => p === i || p.startsWith(`${i}/`));
  const entries = listTarget(target, { ignore: () => false, skip: ignored }).filter((e) => e.type !== 'folder');
  const refused = entries.filter((e) => e.type !== 'file' || getPathProblem(e.path));
  if (refused.length > 0) throw new AiscError('NOT_A_FILE', `${folder}: cannot sign ${refused.map((e) => JSON.stringify(e.path)).join(', ')} (symlinks and special files are not signed)`);
  if (entries.length === 0) throw new AiscError('SOURCE_EMPTY', `${folder}: nothing to sign`);
  const pool = acquireHashPool({ jobs: options.jobs });
  let files: { path: string; sha256: string }[];
  try {
    const results = await pool.hash(entries.map((e) => ({ path: e.path, root: target.realRoot, followSymlinks: false, expectedSize: e.size })));
    files = results.map((result, i) => {
      const entry = entries[i];
      if (!result.ok || !entry) throw new AiscError(result.ok ? 'INTERNAL' : result.code, `${folder}: ${entry?.path ?? '?'}: ${result.ok ? 'not hashed' : result.message}`);
      return { path: entry.path, sha256: result.sha256 };
    });
  } finally {
    await pool.close();
  }
  const name = target.layout === 'file' ? (target.fileName ?? basename(folder)) : basename(target.realRoot);
  const statement = toOmsStatement(name, target.layout === 'file' ? files.map((f) => ({ ...f, path: '.' })) : files, ignorePaths, computeRootDigest(files));
  return Buffer.from(JSON.stringify(statement));
}

/** A DSSE bundle over the payload: key material (model_signing's hint), or with `chain` (leaf first) certificate material. */
export function toDsseBundle(payload: Buffer, key: KeyObject, chain?: readonly X509Certificate[]): object {
  const signature = signBytes(dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload), key);
  return {
    mediaType: BUNDLE_V03,
    verificationMaterial: chain && chain.length > 0 ? certificateMaterial(chain) : keyMaterial(key),
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: signature.toString('base64'), keyid: '' }] },
  };
}

/**
 * A message-signature bundle over one file (what `cosign sign-blob --bundle` writes, key mode).
 * ECDSA streams the file through the signer; Ed25519 signs the whole message, so it is read
 * whole (up to 256 MiB).
 */
export async function signFile(path: string, key: KeyObject): Promise<object> {
  const hash = getKeyHash(createPublicKey(key));
  const digest = createHash(hash ?? 'sha256');
  const signer = hash ? createSign(hash) : undefined;
  const whole: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
      const data = chunk as Buffer;
      digest.update(data);
      signer?.update(data);
      size += data.length;
      if (!signer) {
        if (size > MAX_MESSAGE_BYTES) throw new AiscError('USAGE', `${path}: Ed25519 signs the whole message; sign files over ${MAX_MESSAGE_BYTES} bytes with an ECDSA key`);
        whole.push(data);
      }
    }
  } catch (error) {
    if (error instanceof AiscError) throw error;
    throw new AiscError('SOURCE_NOT_FOUND', `${path}: cannot read (${(error as Error).message})`, { cause: error });
  }
  const signature = signer ? signer.sign(key) : cryptoSign(null, Buffer.concat(whole), key);
  return {
    mediaType: BUNDLE_V03,
    verificationMaterial: keyMaterial(key),
    messageSignature: {
      messageDigest: { algorithm: HASH_ENUM[hash ?? 'sha256'], digest: digest.digest('base64') },
      signature: signature.toString('base64'),
    },
  };
}
