import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { decodeUtf8, parseJsonStrict, readBoundedBytes } from '../io/index.js';
import { signatureInputError } from './errors.js';
import { OMS_PREDICATE_TYPE } from './oms.js';

export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

/** Bundle media types aisc knows how to verify (Sigstore bundle v0.1 to v0.3); nothing else. */
export const BUNDLE_MEDIA_TYPES = [
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
] as const;

export interface ReadBundle {
  bundle: Bundle;
  /** The bytes as read: their SHA-256 pins the bundle in a lockfile. */
  bytes: Buffer;
}

export interface BundleOptions {
  /** model_signing's certificate mode writes v0.3 bundles with a full chain, which v0.3 does not allow: read them for a CA (to verify) or a key (to say it is certificate-signed), never for keyless. */
  allowV03CertificateChain?: boolean;
}

/** A bundle's bytes as read once: what is hashed for the lockfile is what is parsed and verified. */
export interface BundleFile {
  path: string;
  bytes: Buffer;
}

/** A bundle to verify: its path (read here, bounded), or the bytes a caller already read. */
export type BundleRef = string | BundleFile;

export async function readBundleFile(path: string): Promise<BundleFile> {
  try {
    return { path, bytes: await readBoundedBytes(path, { limit: MAX_BUNDLE_BYTES, what: 'Sigstore bundle' }) };
  } catch (error) {
    throw signatureInputError('BUNDLE_INVALID', (error as Error).message, error);
  }
}

export function getBundlePath(ref: BundleRef): string {
  return typeof ref === 'string' ? ref : ref.path;
}

export async function readBundle(ref: BundleRef, options: BundleOptions = {}): Promise<ReadBundle> {
  const { path, bytes } = typeof ref === 'string' ? await readBundleFile(ref) : ref;
  let text: string;
  try {
    text = decodeUtf8(bytes, path, 'Sigstore bundle');
  } catch (error) {
    throw signatureInputError('BUNDLE_INVALID', (error as Error).message, error);
  }
  return { bundle: parseBundle(text, path, options), bytes };
}

/**
 * Strict JSON, a known media type, then @sigstore/bundle's validation. Whatever a malformed
 * bundle makes the library throw (TypeErrors included) becomes BUNDLE_INVALID.
 */
export function parseBundle(text: string, where: string, options: BundleOptions = {}): Bundle {
  let json: unknown;
  try {
    json = parseJsonStrict(text, where);
  } catch (error) {
    throw signatureInputError('BUNDLE_INVALID', (error as Error).message, error);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw signatureInputError('BUNDLE_INVALID', `${where}: expected a JSON object`);
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !(BUNDLE_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
    throw signatureInputError('BUNDLE_UNSUPPORTED', `${where}: expected a Sigstore bundle media type (v0.1 to v0.3), got ${JSON.stringify(mediaType) ?? 'none'}`);
  }
  const problem = getOmsBundleShapeProblem(json as Record<string, unknown>);
  if (problem) throw signatureInputError('BUNDLE_INVALID', `${where}: ${problem}`);
  try {
    return bundleFromJSON(normalizeModelSigning(json as Record<string, unknown>, options));
  } catch (error) {
    throw signatureInputError('BUNDLE_INVALID', `${where}: not a valid Sigstore bundle (${(error as Error).message})`, error);
  }
}

const OMS_BUNDLE_KEYS = ['mediaType', 'verificationMaterial', 'dsseEnvelope'];
const OMS_ENVELOPE_KEYS = ['payload', 'payloadType', 'signatures'];
const OMS_SIGNATURE_KEYS = ['sig', 'keyid'];

/**
 * OMS v1.0 §8.1 has a verifier validate the bundle against its schema, which closes the bundle,
 * the envelope and each signature (additionalProperties: false) where the Sigstore library
 * ignores unknown keys. Applied to bundles whose payload carries the v1.0 predicate; the
 * historical v0.1 predicate is outside that schema.
 */
function getOmsBundleShapeProblem(json: Record<string, unknown>): string | undefined {
  const envelope = json.dsseEnvelope as Record<string, unknown> | undefined;
  if (typeof envelope !== 'object' || envelope === null || typeof envelope.payload !== 'string') return undefined;
  let predicateType: unknown;
  try {
    predicateType = (JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicateType?: unknown } | null)?.predicateType;
  } catch {
    return undefined;
  }
  if (predicateType !== OMS_PREDICATE_TYPE) return undefined;
  const signatures = Array.isArray(envelope.signatures) ? (envelope.signatures as unknown[]) : [];
  const objects: [string, unknown, string[]][] = [['the bundle', json, OMS_BUNDLE_KEYS], ['dsseEnvelope', envelope, OMS_ENVELOPE_KEYS], ...signatures.map((sig, i): [string, unknown, string[]] => [`dsseEnvelope.signatures[${i}]`, sig, OMS_SIGNATURE_KEYS])];
  for (const [where, object, allowed] of objects) {
    if (typeof object !== 'object' || object === null) continue;
    const unknown = Object.keys(object).filter((key) => !allowed.includes(key));
    if (unknown.length > 0) return `${where} has unknown ${unknown.map((k) => JSON.stringify(k)).join(', ')} (an OpenSSF Model Signing v1.0 bundle allows ${allowed.join(', ')})`;
  }
  return undefined;
}

/**
 * What the Python model_signing tool writes and the bundle schema reads differently: a public
 * key given by rawBytes with no hint (the hint only names a key; aisc verifies with --key), and,
 * in certificate mode only, a v0.3 bundle carrying the whole chain (validated with v0.2's rules,
 * which allow a chain; the chain is then checked against the CA the user gives).
 */
function normalizeModelSigning(json: Record<string, unknown>, options: BundleOptions): Record<string, unknown> {
  const material = json.verificationMaterial as Record<string, unknown> | undefined;
  const publicKey = material?.publicKey as Record<string, unknown> | undefined;
  if (publicKey && typeof publicKey.hint !== 'string') {
    return { ...json, verificationMaterial: { ...material, publicKey: { ...publicKey, hint: '' } } };
  }
  const v03 = json.mediaType === BUNDLE_MEDIA_TYPES[3] || json.mediaType === BUNDLE_MEDIA_TYPES[2];
  const tlogEntries = material?.tlogEntries;
  if (options.allowV03CertificateChain && v03 && material?.x509CertificateChain && (!Array.isArray(tlogEntries) || tlogEntries.length === 0)) {
    return { ...json, mediaType: BUNDLE_MEDIA_TYPES[1] };
  }
  return json;
}
