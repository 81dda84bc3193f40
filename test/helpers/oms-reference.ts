/**
 * A second, independent implementation of OpenSSF Model Signing (OMS) v1.0, written from the
 * spec (spec/v1.0.md §4–§8 and the algorithm registry) with node:crypto alone, to judge aisc
 * against: it imports nothing from src/. signOmsReference writes a bundle as the spec says a
 * producer must; verifyOmsReference checks one as the spec says a verifier must. Kept small and
 * literal on purpose: where aisc is lenient for the Python tool's sake (shard algorithm names,
 * unsorted resources, v0.1 predicates, '.' for a single file), this is not.
 */
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createBLAKE3 } from 'hash-wasm';

export type OmsReferenceHash = 'sha256' | 'blake2b' | 'blake3';

export interface OmsReferenceSignOptions {
  /** The private key (KeyObject or PEM): ECDSA P-256/P-384/P-521, or Ed25519 (key method only). */
  key: KeyObject | string;
  /** Certificate method: the leaf, then its chain (X509Certificate or PEM text, which may hold several). */
  certificateChain?: readonly (X509Certificate | string)[];
  hashType?: OmsReferenceHash;
  /** Shards method with this shard size; files method when absent. */
  shardSize?: number;
  /** More paths to leave out, relative to the model root (§6.2: exact paths, no globs). */
  ignorePaths?: readonly string[];
  /** subject[0].name (default: the model's basename, §6.5). */
  name?: string;
  /** The bundle's own path in the model, left out and recorded as ignored (default 'model.sig'; null: none). */
  signaturePath?: string | null;
}

export interface OmsReferenceVerifyOptions {
  /** Key method: the public key that must have signed. */
  publicKey?: KeyObject;
  /** Certificate method: the trusted roots the leaf must chain to. */
  anchors?: readonly X509Certificate[];
  /** When the certificates must be valid (default: now). */
  now?: Date;
  /** More paths the verifier leaves out (relative to the model root). */
  ignorePaths?: readonly string[];
  /** The bundle's path in the model, left out (default 'model.sig'). */
  signaturePath?: string;
  /** §8.5: files that were not signed are not a failure. */
  ignoreUnsignedFiles?: boolean;
}

export type OmsReferenceResult = { ok: true; rootDigest: string; names: string[] } | { ok: false; reason: string };

const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
const PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
const DEFAULT_EXCLUDED = ['.git', '.gitignore', '.gitattributes', '.github'];
const HEX_LENGTH: Record<OmsReferenceHash, number> = { sha256: 64, blake2b: 128, blake3: 64 };
const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

interface Resource {
  name: string;
  digest: string;
  algorithm: string;
}

/** Signs a model folder (or one file) per OMS v1.0; returns the bundle's bytes. */
export async function signOmsReference(model: string, options: OmsReferenceSignOptions): Promise<Buffer> {
  const hashType = options.hashType ?? 'sha256';
  const signaturePath = options.signaturePath === undefined ? 'model.sig' : options.signaturePath;
  const given = [...(options.ignorePaths ?? [])];
  for (const path of given) assertIgnorePath(path);
  const single = lstatSync(model).isFile();
  const excluded = single ? [] : [...DEFAULT_EXCLUDED, ...given, ...(signaturePath ? [signaturePath] : [])];
  const files = single ? [{ name: basename(model), path: model }] : listFiles(model, excluded);
  if (files.length === 0) throw new Error('an empty model must be rejected (§6.1)');
  const resources = sortByName(await hashResources(files, hashType, options.shardSize));
  const statement = {
    _type: STATEMENT_TYPE,
    subject: [{ name: options.name ?? basename(model), digest: { sha256: rootDigest(resources) } }],
    predicateType: PREDICATE_TYPE,
    predicate: {
      resources,
      serialization: {
        method: options.shardSize === undefined ? 'files' : 'shards',
        hash_type: hashType,
        ...(options.shardSize === undefined ? {} : { shard_size: options.shardSize }),
        allow_symlinks: false,
        ignore_paths: [...new Set(excluded)],
      },
    },
  };
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const key = typeof options.key === 'string' ? createPrivateKey(options.key) : options.key;
  const publicKey = createPublicKey(key);
  const chain = (options.certificateChain ?? []).flatMap(toCertificates);
  if (chain[0] && !chain[0].publicKey.equals(publicKey)) throw new Error('the leaf certificate is not for this key');
  const material = chain.length > 0
    ? { x509CertificateChain: { certificates: chain.map((c) => ({ rawBytes: c.raw.toString('base64') })) }, tlogEntries: [] }
    : { publicKey: { hint: keyHint(publicKey) }, tlogEntries: [] };
  const signature = cryptoSign(curveHash(publicKey), pae(payload), key);
  const bundle = { mediaType: BUNDLE_MEDIA_TYPE, verificationMaterial: material, dsseEnvelope: { payload: payload.toString('base64'), payloadType: PAYLOAD_TYPE, signatures: [{ sig: signature.toString('base64'), keyid: '' }] } };
  return Buffer.from(`${JSON.stringify(bundle, null, 2)}\n`);
}

/** Verifies an OMS v1.0 bundle over a model folder (or one file), per §8; never throws. */
export async function verifyOmsReference(model: string, bundleBytes: Buffer | string, options: OmsReferenceVerifyOptions): Promise<OmsReferenceResult> {
  try {
    return await verifyOrThrow(model, bundleBytes, options);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

async function verifyOrThrow(model: string, bundleBytes: Buffer | string, options: OmsReferenceVerifyOptions): Promise<OmsReferenceResult> {
  const bundle = asObject(JSON.parse(bundleBytes.toString()), 'bundle');
  if (typeof bundle.mediaType !== 'string' || !/^application\/vnd\.dev\.sigstore\.bundle(\.v0\.3\+json|\+json;version=0\.[123])$/.test(bundle.mediaType)) throw new Error(`bundle: unknown mediaType ${String(bundle.mediaType)}`);
  const envelope = asObject(bundle.dsseEnvelope, 'dsseEnvelope');
  if (envelope.payloadType !== PAYLOAD_TYPE) throw new Error('dsseEnvelope: payloadType is not in-toto');
  const signatures = envelope.signatures;
  if (!Array.isArray(signatures) || signatures.length === 0) throw new Error('dsseEnvelope: no signatures');
  const first = asObject(signatures[0], 'signature');
  if (!(first.keyid === undefined || first.keyid === null || typeof first.keyid === 'string')) throw new Error('signature: keyid must be absent, null or a string');
  if (typeof envelope.payload !== 'string' || typeof first.sig !== 'string') throw new Error('dsseEnvelope: payload and sig must be base64 strings');
  const payload = Buffer.from(envelope.payload, 'base64');
  const signingKey = checkMaterial(asObject(bundle.verificationMaterial, 'verificationMaterial'), options);
  if (!cryptoVerify(curveHash(signingKey), pae(payload), signingKey, Buffer.from(first.sig, 'base64'))) throw new Error('the DSSE signature does not verify');

  const { resources, serialization, subjectDigest } = readStatement(JSON.parse(payload.toString('utf8')));
  if (rootDigest(resources) !== subjectDigest) throw new Error('subject digest is not the root digest of the resources');
  const single = lstatSync(model).isFile();
  const excluded = single ? [] : [...DEFAULT_EXCLUDED, ...serialization.ignorePaths, ...(options.ignorePaths ?? []), options.signaturePath ?? 'model.sig'];
  let files = single ? [{ name: basename(model), path: model }] : listFiles(model, excluded);
  const signedFiles = new Set(resources.map((r) => (serialization.shardSize === undefined ? r.name : parseShard(r.name).path)));
  if (options.ignoreUnsignedFiles) files = files.filter((f) => signedFiles.has(f.name));
  const actual = sortByName(await hashResources(files, serialization.hashType, serialization.shardSize));
  const expected = new Map(resources.map((r) => [r.name, r.digest]));
  for (const r of actual) {
    const digest = expected.get(r.name);
    if (digest === undefined) throw new Error(`${r.name}: not in the signed resources`);
    if (digest !== r.digest) throw new Error(`${r.name}: digest differs`);
    expected.delete(r.name);
  }
  const missing = [...expected.keys()];
  if (missing.length > 0) throw new Error(`${missing.join(', ')}: signed but missing`);
  return { ok: true, rootDigest: subjectDigest, names: resources.map((r) => r.name) };
}

/** §4.1 and §8.2: the key the method names, checked against what the verifier trusts. */
function checkMaterial(material: Record<string, unknown>, options: OmsReferenceVerifyOptions): KeyObject {
  if (material.publicKey !== undefined) {
    if (!options.publicKey) throw new Error('key method: no public key given');
    const identifier = asObject(material.publicKey, 'publicKey');
    if (typeof identifier.hint === 'string' && identifier.hint !== '' && identifier.hint !== keyHint(options.publicKey)) throw new Error('key method: the hint names another key');
    if (typeof identifier.hint !== 'string' && typeof identifier.rawBytes !== 'string') throw new Error('key method: publicKey needs a hint or rawBytes');
    return options.publicKey;
  }
  if (material.x509CertificateChain !== undefined) {
    const certificates = asObject(material.x509CertificateChain, 'x509CertificateChain').certificates;
    if (!Array.isArray(certificates) || certificates.length === 0) throw new Error('certificate method: empty chain');
    const chain = certificates.map((c) => new X509Certificate(Buffer.from(String(asObject(c, 'certificate').rawBytes), 'base64')));
    checkChain(chain, options.anchors ?? [], options.now ?? new Date());
    return chain[0]!.publicKey;
  }
  if (material.certificate !== undefined) throw new Error('sigstore method: not implemented by the reference');
  throw new Error('verificationMaterial: no publicKey, x509CertificateChain or certificate');
}

/** Leaf → the bundle's intermediates → an anchor; each valid at `now`; issuers are CAs; the leaf may sign code. */
function checkChain(chain: readonly X509Certificate[], anchors: readonly X509Certificate[], now: Date): void {
  const [leaf, ...intermediates] = chain;
  if (!leaf) throw new Error('certificate method: empty chain');
  const eku = leaf.keyUsage;
  const usage = readKeyUsage(leaf.raw);
  if (eku ? !eku.includes(CODE_SIGNING) : !usage?.digitalSignature) throw new Error('the leaf is not for code signing');
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    assertValid(current, now);
    if (anchors.some((a) => a.raw.equals(current.raw))) return;
    const anchor = anchors.find((a) => signedBy(current, a));
    if (anchor) {
      assertValid(anchor, now);
      return;
    }
    const issuer = intermediates.find((c) => !c.raw.equals(current.raw) && signedBy(current, c));
    if (!issuer) throw new Error(`no issuer for ${current.subject}`);
    current = issuer;
  }
  throw new Error('chain too long');
}

function signedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  const usage = readKeyUsage(issuer.raw);
  return issuer.ca && (usage === undefined || usage.keyCertSign) && certificate.issuer === issuer.subject && certificate.verify(issuer.publicKey);
}

function assertValid(certificate: X509Certificate, now: Date): void {
  if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) throw new Error(`${certificate.subject} is not valid at ${now.toISOString()}`);
}

/** The statement per §5 and §8.3: exact keys where the schemas close them, resources per §5.2.1 and §6.3. */
function readStatement(json: unknown): { resources: Resource[]; serialization: { hashType: OmsReferenceHash; shardSize?: number; ignorePaths: string[] }; subjectDigest: string } {
  const statement = asObject(json, 'statement');
  onlyKeys(statement, ['_type', 'subject', 'predicateType', 'predicate'], 'statement');
  if (statement._type !== STATEMENT_TYPE || statement.predicateType !== PREDICATE_TYPE) throw new Error('statement: wrong _type or predicateType');
  const subject = statement.subject;
  if (!Array.isArray(subject) || subject.length !== 1) throw new Error('statement: exactly one subject');
  const only = asObject(subject[0], 'subject');
  const digest = asObject(only.digest, 'subject digest').sha256;
  if (typeof only.name !== 'string' || only.name === '' || typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) throw new Error('subject: a non-empty name and a sha256 digest');
  const predicate = asObject(statement.predicate, 'predicate');
  onlyKeys(predicate, ['resources', 'serialization'], 'predicate');
  const serialization = asObject(predicate.serialization, 'serialization');
  onlyKeys(serialization, ['method', 'hash_type', 'shard_size', 'allow_symlinks', 'ignore_paths'], 'serialization');
  const hashType = serialization.hash_type;
  if (hashType !== 'sha256' && hashType !== 'blake2b' && hashType !== 'blake3') throw new Error(`unsupported hash_type ${String(hashType)}`);
  if (serialization.method !== 'files' && serialization.method !== 'shards') throw new Error(`unsupported method ${String(serialization.method)}`);
  const shardSize = serialization.shard_size;
  if (serialization.method === 'files' ? shardSize !== undefined : !(Number.isSafeInteger(shardSize) && (shardSize as number) > 0)) throw new Error('serialization: shard_size must be a positive integer for shards and absent for files');
  if (typeof serialization.allow_symlinks !== 'boolean') throw new Error('serialization: allow_symlinks must be a boolean');
  if (serialization.allow_symlinks) throw new Error('allow_symlinks true: not implemented by the reference');
  const ignorePaths = serialization.ignore_paths ?? [];
  if (!Array.isArray(ignorePaths) || !ignorePaths.every((p): p is string => typeof p === 'string')) throw new Error('serialization: ignore_paths must be strings');
  ignorePaths.forEach(assertIgnorePath);
  const list = predicate.resources;
  if (!Array.isArray(list) || list.length === 0) throw new Error('predicate: resources must not be empty');
  const resources = list.map((entry): Resource => {
    const { name, digest: value, algorithm } = asObject(entry, 'resource');
    if (typeof name !== 'string' || name === '' || typeof value !== 'string' || value.length !== HEX_LENGTH[hashType] || !/^[0-9a-f]+$/.test(value)) throw new Error('resource: a name and a hex digest of the hash_type');
    if (algorithm !== hashType) throw new Error(`resource ${name}: algorithm ${String(algorithm)} is not the hash_type ${hashType}`);
    assertCanonical(serialization.method === 'shards' ? parseShard(name).path : name);
    return { name, digest: value, algorithm: hashType };
  });
  for (let i = 1; i < resources.length; i++) if (compareCodePoints(resources[i - 1]!.name, resources[i]!.name) >= 0) throw new Error('predicate: resources must be sorted by name, each once');
  return { resources, serialization: { hashType, shardSize: serialization.method === 'shards' ? (shardSize as number) : undefined, ignorePaths }, subjectDigest: digest };
}

/** §6.3.2: the range is the last two colon-separated decimal integers. */
function parseShard(name: string): { path: string; start: number; end: number } {
  const match = /^(.+):(0|[1-9]\d*):(0|[1-9]\d*)$/.exec(name);
  if (!match) throw new Error(`shard ${name}: expected path:start:end`);
  return { path: match[1]!, start: Number(match[2]), end: Number(match[3]) };
}

/** §6.1.2: relative, '/'-separated, no '.', '..' or empty components. */
function assertCanonical(path: string): void {
  if (path.startsWith('/') || path.endsWith('/') || path.split('/').some((part) => part === '' || part === '.' || part === '..')) throw new Error(`resource ${path}: not a canonical path`);
}

/** §6.2.1: no glob characters, no leading '/', no '..'. */
function assertIgnorePath(path: string): void {
  if (path === '' || /[*?[]/.test(path) || path.startsWith('/') || path.split('/').includes('..')) throw new Error(`ignore path ${JSON.stringify(path)} is not allowed`);
}

/** Every regular file under the root, by '/'-joined relative path, leaving out the excluded paths (and what is under them). */
function listFiles(root: string, excluded: readonly string[]): { name: string; path: string }[] {
  const out: { name: string; path: string }[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true, encoding: 'buffer' })) {
      const segment = new TextDecoder('utf-8', { fatal: true }).decode(entry.name);
      const name = prefix ? `${prefix}/${segment}` : segment;
      if (excluded.some((e) => name === e || name.startsWith(`${e}/`))) continue;
      const path = join(dir, segment);
      if (entry.isSymbolicLink()) throw new Error(`${name}: a symbolic link (allow_symlinks is false)`);
      if (entry.isDirectory()) walk(path, name);
      else if (entry.isFile()) out.push({ name, path });
      else throw new Error(`${name}: not a regular file`);
    }
  };
  walk(root, '');
  return out;
}

async function hashResources(files: readonly { name: string; path: string }[], hashType: OmsReferenceHash, shardSize: number | undefined): Promise<Resource[]> {
  const resources: Resource[] = [];
  for (const file of files) {
    const data = readFileSync(file.path);
    if (shardSize === undefined) {
      resources.push({ name: file.name, digest: await hash(data, hashType), algorithm: hashType });
      continue;
    }
    // Zero-byte files have no shard (§6.3.2).
    for (let start = 0; start < data.length; start += shardSize) {
      const end = Math.min(data.length, start + shardSize);
      resources.push({ name: `${file.name}:${start}:${end}`, digest: await hash(data.subarray(start, end), hashType), algorithm: hashType });
    }
  }
  return resources;
}

async function hash(data: Buffer, hashType: OmsReferenceHash): Promise<string> {
  if (hashType === 'sha256') return createHash('sha256').update(data).digest('hex');
  if (hashType === 'blake2b') return createHash('blake2b512').update(data).digest('hex');
  const blake3 = await createBLAKE3();
  return blake3.init().update(data).digest('hex');
}

/** §6.5.1: SHA-256 over the raw digests in resource order. */
function rootDigest(resources: readonly Resource[]): string {
  const root = createHash('sha256');
  for (const r of resources) root.update(Buffer.from(r.digest, 'hex'));
  return root.digest('hex');
}

function sortByName(resources: Resource[]): Resource[] {
  return resources.sort((a, b) => compareCodePoints(a.name, b.name));
}

/** Unicode code point order (not UTF-16 unit order, which differs above U+FFFF). */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** DSSE v1 pre-authentication encoding. */
function pae(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(PAYLOAD_TYPE)} ${PAYLOAD_TYPE} ${payload.length} `), payload]);
}

/** ECDSA with the curve's hash (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512); Ed25519 pure. */
function curveHash(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519') return null;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const hashName = curve === 'prime256v1' ? 'sha256' : curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : undefined;
  if (!hashName) throw new Error(`unsupported key ${key.asymmetricKeyType ?? '?'} ${curve ?? ''}`);
  return hashName;
}

/** The key method's hint: hex SHA-256 of the SubjectPublicKeyInfo PEM text, as model_signing writes it. */
function keyHint(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'pem' })).digest('hex');
}

function toCertificates(given: X509Certificate | string): X509Certificate[] {
  if (typeof given !== 'string') return [given];
  return (given.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((pem) => new X509Certificate(pem));
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what}: expected an object`);
  return value as Record<string, unknown>;
}

function onlyKeys(object: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(object).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new Error(`${what}: unknown keys ${unknown.join(', ')}`);
}

/**
 * The KeyUsage bits of a DER certificate (undefined without the extension), read with a minimal
 * DER walk: Node's X509Certificate exposes extended key usage but not these bits.
 */
function readKeyUsage(der: Buffer): { digitalSignature: boolean; keyCertSign: boolean } | undefined {
  const certificate = readTlv(der, 0);
  const tbs = readTlv(der, certificate.start);
  for (let at = tbs.start; at < tbs.end; ) {
    const field = readTlv(der, at);
    if (der[at] === 0xa3) {
      const extensions = readTlv(der, field.start);
      for (let e = extensions.start; e < extensions.end; ) {
        const extension = readTlv(der, e);
        const oid = readTlv(der, extension.start);
        if (der.subarray(oid.start, oid.end).equals(Buffer.from([0x55, 0x1d, 0x0f]))) {
          let next = readTlv(der, oid.end);
          if (der[oid.end] === 0x01) next = readTlv(der, next.end); // the critical flag
          const bits = readTlv(der, next.start);
          const first = der[bits.start + 1] ?? 0;
          return { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0 };
        }
        e = extension.end;
      }
      return undefined;
    }
    at = field.end;
  }
  return undefined;
}

function readTlv(der: Buffer, at: number): { start: number; end: number } {
  let length = der[at + 1] ?? 0;
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[start + i] ?? 0);
    start += count;
  }
  return { start, end: start + length };
}
