import { createHash } from 'node:crypto';
import type { Bundle } from '@sigstore/bundle';
import { compareCodePoints } from '../lockfile/canonical-json.js';
import { getPathProblem } from '../lockfile/paths.js';
import { SignatureFinding, signatureInputError } from './errors.js';
import type { InTotoStatement } from './statement.js';

export const OMS_PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
/** What model_signing v0.2 wrote: one in-toto subject per file, no serialization, no root digest. */
export const OMS_PREDICATE_TYPE_V01 = 'https://model_signing/Digests/v0.1';
export const OMS_PREDICATE_TYPES: readonly string[] = [OMS_PREDICATE_TYPE, OMS_PREDICATE_TYPE_V01];

/** Whether a bundle is an OpenSSF Model Signing one: a DSSE envelope whose statement has an OMS predicate type. */
export function isOmsBundle(bundle: Bundle): boolean {
  if (bundle.content.$case !== 'dsseEnvelope') return false;
  try {
    const type = (JSON.parse(bundle.content.dsseEnvelope.payload.toString('utf8')) as { predicateType?: unknown }).predicateType;
    return typeof type === 'string' && OMS_PREDICATE_TYPES.includes(type);
  } catch {
    return false;
  }
}
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

/** The hashes model_signing signs with, and the hex length of each digest. */
export const OMS_HASH_TYPES = { sha256: 64, blake2b: 128, blake3: 64 } as const;
export type OmsHashType = keyof typeof OMS_HASH_TYPES;

export interface OmsResource {
  name: string;
  digest: string;
  /** shards method: the file and the byte range [start, end) this digest covers. */
  shard?: { path: string; start: number; end: number };
}

/** What an OpenSSF Model Signing statement signs: the files of a model and how they were listed. */
export interface OmsManifest {
  /** v1.0, or v0.1 as model_signing v0.2 wrote it. */
  predicateType: typeof OMS_PREDICATE_TYPE | typeof OMS_PREDICATE_TYPE_V01;
  method: 'files' | 'shards';
  hashType: OmsHashType;
  /** shards method: every file is cut at multiples of this size. */
  shardSize?: number;
  subjectName: string;
  /** SHA-256 over the resources' raw digests in name order. */
  rootDigest: string;
  resources: OmsResource[];
  ignorePaths: string[];
  allowSymlinks: boolean;
}

const PREDICATE_KEYS = ['resources', 'serialization'];
const SERIALIZATION_KEYS = ['method', 'hash_type', 'shard_size', 'allow_symlinks', 'ignore_paths'];
const METHODS = ['files', 'shards'];

/**
 * Reads the OMS predicate and holds it to the v1.0 spec (§5, §6.2.1, §6.3, §6.5, §8.3): one
 * subject with a SHA-256 root digest over the resources, a closed predicate and serialization,
 * at least one resource, sorted, each with the hash_type's algorithm, shard_size for shards and
 * only for them, ignore_paths without globs or parent steps. What the Python model_signing tool
 * writes is read too: a float shard_size (1000000.0), `sha256-sharded-N` shard algorithms,
 * resources in its own order, no ignore_paths; and the v0.1 predicate of model_signing v0.2,
 * read as model_signing reads it: each subject a file, sha256, no symlinks.
 */
export function toOmsManifest(statement: InTotoStatement): OmsManifest {
  if (statement._type !== IN_TOTO_STATEMENT_V1) throw signatureInputError('PAYLOAD_INVALID', `expected _type ${IN_TOTO_STATEMENT_V1}, got ${JSON.stringify(statement._type)}`);
  if (statement.predicateType === OMS_PREDICATE_TYPE_V01) return toV01Manifest(statement);
  if (statement.predicateType !== OMS_PREDICATE_TYPE) {
    throw signatureInputError('PAYLOAD_INVALID', `expected predicateType ${OMS_PREDICATE_TYPE} (or ${OMS_PREDICATE_TYPE_V01}), got ${JSON.stringify(statement.predicateType)}`);
  }
  const [subject, ...more] = statement.subject;
  const rootDigest = subject?.digest.sha256;
  if (!subject || more.length > 0 || !rootDigest || !/^[0-9a-f]{64}$/.test(rootDigest)) throw signatureInputError('PAYLOAD_INVALID', 'expected exactly one subject with a 64-hex sha256 digest');
  // Informational only (§6.5), but never empty.
  if (subject.name === '') throw signatureInputError('PAYLOAD_INVALID', 'expected a non-empty subject name');
  const predicate = statement.predicate;
  if (!isObject(predicate) || !isObject(predicate.serialization) || !Array.isArray(predicate.resources)) {
    throw signatureInputError('PAYLOAD_INVALID', 'expected a predicate with resources[] and serialization');
  }
  assertOnlyKeys(predicate, PREDICATE_KEYS, 'predicate');
  const serialization = toSerialization(predicate.serialization);
  const resources = toResources(predicate.resources, serialization);
  if (!isSortedByName(resources)) throw signatureInputError('PAYLOAD_INVALID', 'expected resources sorted by name (OMS v1.0 §5.2.1: in code-point order)');
  // In the order listed, as model_signing verifies (its signer lists them sorted).
  if (computeOmsRoot(resources) !== rootDigest) {
    throw new SignatureFinding('MANIFEST_MISMATCH', `the subject digest ${rootDigest} is not the root digest of the signed resources`);
  }
  const sorted = [...resources].sort((a, b) => compareCodePoints(a.name, b.name));
  return { predicateType: OMS_PREDICATE_TYPE, subjectName: subject.name, rootDigest, resources: sorted, ...serialization };
}

type Serialization = Pick<OmsManifest, 'method' | 'hashType' | 'shardSize' | 'ignorePaths' | 'allowSymlinks'>;

/** §5.2.2: the method and hash aisc reads (named when it does not), shard_size exactly when sharded. */
function toSerialization(serialization: Record<string, unknown>): Serialization {
  assertOnlyKeys(serialization, SERIALIZATION_KEYS, 'serialization');
  const { method, hash_type: hashType, shard_size: shardSize, allow_symlinks: allowSymlinks } = serialization;
  if (typeof method !== 'string' || method === '') throw signatureInputError('PAYLOAD_INVALID', 'expected serialization.method');
  if (!METHODS.includes(method)) throw signatureInputError('BUNDLE_UNSUPPORTED', `serialization method ${JSON.stringify(method)} is not supported (aisc reads ${METHODS.join(', ')})`);
  if (typeof hashType !== 'string' || hashType === '') throw signatureInputError('PAYLOAD_INVALID', 'expected serialization.hash_type');
  if (!Object.hasOwn(OMS_HASH_TYPES, hashType)) throw signatureInputError('BUNDLE_UNSUPPORTED', `hash_type ${JSON.stringify(hashType)} is not supported (aisc reads ${Object.keys(OMS_HASH_TYPES).join(', ')})`);
  // model_signing writes shard_size as a float (1000000.0) once JSON has been through protobuf: the same number.
  if (method === 'files' && shardSize !== undefined) throw signatureInputError('PAYLOAD_INVALID', `expected no shard_size for the files method, got ${JSON.stringify(shardSize)}`);
  if (method === 'shards' && (typeof shardSize !== 'number' || !Number.isSafeInteger(shardSize) || shardSize <= 0)) {
    throw signatureInputError('PAYLOAD_INVALID', `expected a positive whole shard_size for the shards method, got ${JSON.stringify(shardSize) ?? 'none'}`);
  }
  if (typeof allowSymlinks !== 'boolean') throw signatureInputError('PAYLOAD_INVALID', 'expected a boolean allow_symlinks');
  return { method: method as OmsManifest['method'], hashType: hashType as OmsHashType, shardSize: method === 'shards' ? (shardSize as number) : undefined, ignorePaths: toIgnorePaths(serialization.ignore_paths), allowSymlinks };
}

/** §6.2.1: exact paths from the model root; absent in model_signing before v1.1.0. */
function toIgnorePaths(value: unknown): string[] {
  const paths: unknown = value ?? [];
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) throw signatureInputError('PAYLOAD_INVALID', 'expected ignore_paths to be strings');
  paths.forEach((path: string, i) => {
    const problem = getIgnorePathProblem(path);
    if (problem) throw signatureInputError('PAYLOAD_INVALID', `serialization.ignore_paths[${i}]: ${JSON.stringify(path)} ${problem} (OMS v1.0 §6.2.1: exact paths inside the model)`);
  });
  return paths;
}

function getIgnorePathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (/[*?[]/.test(path)) return 'has a glob character';
  if (path.startsWith('/')) return 'is absolute';
  if (path.split('/').includes('..')) return "has a '..' segment";
  return undefined;
}

/**
 * §5.2.1, §6.3: at least one resource, each with a name, a digest of the hash's length and the
 * hash_type as its algorithm (for shards also model_signing's `<hash>-sharded-<size>`); other
 * fields of a resource descriptor are ignored, as the spec asks.
 */
function toResources(entries: unknown[], serialization: Serialization): OmsResource[] {
  const { hashType: hash, shardSize } = serialization;
  if (entries.length === 0) throw signatureInputError('PAYLOAD_INVALID', 'expected at least one resource (OMS v1.0 §5.2.1)');
  const algorithms = shardSize === undefined ? [hash] : [hash, `${hash}-sharded-${shardSize}`];
  const resources = entries.map((entry: unknown, i): OmsResource => {
    const { name, digest, algorithm } = isObject(entry) ? entry : {};
    if (typeof name !== 'string' || typeof digest !== 'string' || !isHexDigest(digest, hash)) {
      throw signatureInputError('PAYLOAD_INVALID', `resources[${i}]: expected a name and a ${OMS_HASH_TYPES[hash]}-hex ${hash} digest`);
    }
    if (typeof algorithm !== 'string' || !algorithms.includes(algorithm)) {
      throw signatureInputError('PAYLOAD_INVALID', `resources[${i}]: algorithm ${JSON.stringify(algorithm) ?? 'missing'} is not the hash_type ${JSON.stringify(hash)}`);
    }
    const shard = shardSize === undefined ? undefined : toShard(name, shardSize, i);
    checkResourcePath(shard ? shard.path : name, i);
    return shard ? { name, digest, shard } : { name, digest };
  });
  assertDistinct(resources);
  return resources;
}

/**
 * §5.2.1 and §6.4: sorted by name in code-point order. model_signing sorts its manifest keys
 * instead: paths by their '/'-separated parts, shards by path then start and end as numbers. That
 * differs for 'a.txt' beside 'a/b', and for a file's tenth shard of a new digit count
 * ('w:900:1000' before 'w:1000:1100'); its bundles are read as written. Any other order is refused.
 */
function isSortedByName(resources: readonly OmsResource[]): boolean {
  const ascending = (compare: (a: OmsResource, b: OmsResource) => number): boolean => resources.every((r, i) => i === 0 || compare(resources[i - 1] as OmsResource, r) < 0);
  return ascending((a, b) => compareCodePoints(a.name, b.name)) || ascending(compareAsModelSigning);
}

function compareAsModelSigning(a: OmsResource, b: OmsResource): number {
  const x = (a.shard?.path ?? a.name).split('/');
  const y = (b.shard?.path ?? b.name).split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const order = compareCodePoints(x[i] ?? '', y[i] ?? '');
    if (order !== 0) return order;
  }
  if (x.length !== y.length) return x.length - y.length;
  return (a.shard?.start ?? 0) - (b.shard?.start ?? 0) || (a.shard?.end ?? 0) - (b.shard?.end ?? 0);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The predicate schema closes these objects (additionalProperties: false): an unknown key was signed by something else. */
function assertOnlyKeys(object: Record<string, unknown>, allowed: readonly string[], where: string): void {
  const unknown = Object.keys(object).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw signatureInputError('PAYLOAD_INVALID', `${where}: unknown ${unknown.length === 1 ? 'key' : 'keys'} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (OMS v1.0 allows ${allowed.join(', ')})`);
}

/** model_signing v0.2's statement: the files are the subjects; nothing else is signed. */
function toV01Manifest(statement: InTotoStatement): OmsManifest {
  if (statement.subject.length === 0) throw signatureInputError('PAYLOAD_INVALID', 'expected at least one subject');
  const resources = statement.subject.map(({ name, digest }, i): OmsResource => {
    const sha256 = digest.sha256;
    if (typeof name !== 'string' || typeof sha256 !== 'string' || !isHexDigest(sha256, 'sha256')) throw signatureInputError('PAYLOAD_INVALID', `subject[${i}]: expected a name and a 64-hex sha256 digest`);
    checkResourcePath(name, i);
    return { name, digest: sha256 };
  });
  assertDistinct(resources);
  const sorted = [...resources].sort((a, b) => compareCodePoints(a.name, b.name));
  return { predicateType: OMS_PREDICATE_TYPE_V01, method: 'files', hashType: 'sha256', subjectName: '', rootDigest: computeOmsRoot(sorted), resources: sorted, ignorePaths: [], allowSymlinks: false };
}

function isHexDigest(digest: string, hash: OmsHashType): boolean {
  return digest.length === OMS_HASH_TYPES[hash] && /^[0-9a-f]+$/.test(digest);
}

function checkResourcePath(path: string, index: number): void {
  const problem = path === '.' ? undefined : getPathProblem(path);
  if (problem) throw signatureInputError('PAYLOAD_INVALID', `resources[${index}]: ${JSON.stringify(path)} ${problem}`);
}

function assertDistinct(resources: readonly OmsResource[]): void {
  if (new Set(resources.map((r) => r.name)).size !== resources.length) throw signatureInputError('PAYLOAD_INVALID', 'resources name the same file twice');
}

/** SHA-256 over the raw digests, in the order given: the subject digest of a v1.0 statement. */
function computeOmsRoot(resources: readonly OmsResource[]): string {
  const hash = createHash('sha256');
  for (const resource of resources) hash.update(Buffer.from(resource.digest, 'hex'));
  return hash.digest('hex');
}

/** `path:start:end`, a shard of `size` bytes at a multiple of it (the last one may be shorter). */
function toShard(name: string, size: number, index: number): { path: string; start: number; end: number } {
  // The range is the last two colon-separated integers (§6.3.2: names may hold ':'), written as numbers are.
  const match = /^(.+):(0|[1-9]\d*):(0|[1-9]\d*)$/.exec(name);
  const start = Number(match?.[2]);
  const end = Number(match?.[3]);
  if (!match?.[1] || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start % size !== 0 || end <= start || end - start > size) {
    throw signatureInputError('PAYLOAD_INVALID', `resources[${index}]: expected path:start:end for a shard of ${size} bytes, got ${JSON.stringify(name)}`);
  }
  return { path: match[1], start, end };
}

/** The shards model_signing cuts a file of `size` bytes into: [0, s), [s, 2s), …, up to size. */
export function toShardRanges(size: number, shardSize: number): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  for (let start = 0; start < size; start += shardSize) ranges.push({ start, end: Math.min(size, start + shardSize) });
  return ranges;
}

/** The statement aisc signs for a folder: resources in code-point order, ignore_paths signed. */
export function toOmsStatement(name: string, files: readonly { path: string; sha256: string }[], ignorePaths: readonly string[], rootDigest: string): object {
  const resources = [...files].sort((a, b) => compareCodePoints(a.path, b.path)).map((f) => ({ digest: f.sha256, algorithm: 'sha256', name: f.path }));
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name, digest: { sha256: rootDigest } }],
    predicateType: OMS_PREDICATE_TYPE,
    predicate: {
      resources,
      serialization: { method: 'files', ignore_paths: [...ignorePaths], hash_type: 'sha256', allow_symlinks: false },
    },
  };
}

/** OMS ignore_paths are paths from the model root: the path itself and everything under it. */
export function toOmsIgnore(ignorePaths: readonly string[]): (path: string) => boolean {
  const cleaned = ignorePaths.map((p) => p.replace(/^\.\//, '').replace(/\/+$/, ''));
  return (path) => cleaned.some((p) => path === p || path.startsWith(`${p}/`));
}
