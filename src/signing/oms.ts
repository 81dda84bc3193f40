import { createHash } from 'node:crypto';
import { compareCodePoints } from '../lockfile/canonical-json.js';
import { getPathProblem } from '../lockfile/paths.js';
import { SignatureFinding, signatureInputError } from './errors.js';
import type { InTotoStatement } from './statement.js';

export const OMS_PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
/** What model_signing v0.2 wrote: one in-toto subject per file, no serialization, no root digest. */
export const OMS_PREDICATE_TYPE_V01 = 'https://model_signing/Digests/v0.1';
export const OMS_PREDICATE_TYPES: readonly string[] = [OMS_PREDICATE_TYPE, OMS_PREDICATE_TYPE_V01];
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

/**
 * Reads the OMS predicate, accepting what the Python model_signing tool writes (a float
 * shard_size such as 1000000.0, `sha256-sharded-N` algorithm names, sha256, blake2b or blake3),
 * and checks that the subject digest is the root digest of the resources. The v0.1 predicate of
 * model_signing v0.2 is read as model_signing reads it: each subject a file, sha256, no symlinks.
 */
export function toOmsManifest(statement: InTotoStatement): OmsManifest {
  if (statement._type !== IN_TOTO_STATEMENT_V1) throw signatureInputError('PAYLOAD_INVALID', `expected _type ${IN_TOTO_STATEMENT_V1}, got ${JSON.stringify(statement._type)}`);
  if (statement.predicateType === OMS_PREDICATE_TYPE_V01) return toV01Manifest(statement);
  if (statement.predicateType !== OMS_PREDICATE_TYPE) {
    throw signatureInputError('PAYLOAD_INVALID', `expected predicateType ${OMS_PREDICATE_TYPE} (or ${OMS_PREDICATE_TYPE_V01}), got ${JSON.stringify(statement.predicateType)}`);
  }
  const [subject, ...more] = statement.subject;
  const rootDigest = subject?.digest.sha256;
  if (!subject || more.length > 0 || !rootDigest) throw signatureInputError('PAYLOAD_INVALID', 'expected exactly one subject with a sha256 digest');
  const predicate = statement.predicate as { resources?: unknown; serialization?: Record<string, unknown> } | null;
  const serialization = predicate?.serialization;
  if (!predicate || !Array.isArray(predicate.resources) || typeof serialization !== 'object' || serialization === null) {
    throw signatureInputError('PAYLOAD_INVALID', 'expected a predicate with resources[] and serialization');
  }
  const method = serialization.method;
  const hashType = serialization.hash_type;
  if (method !== 'files' && method !== 'shards') throw signatureInputError('PAYLOAD_INVALID', `expected serialization method files or shards, got ${JSON.stringify(method)}`);
  // model_signing writes shard_size as a float (1000000.0) once JSON has been through protobuf.
  const shardSize = method === 'shards' ? Number(serialization.shard_size) : undefined;
  if (shardSize !== undefined && (!Number.isSafeInteger(shardSize) || shardSize <= 0)) {
    throw signatureInputError('PAYLOAD_INVALID', `expected a positive whole shard_size, got ${JSON.stringify(serialization.shard_size)}`);
  }
  if (typeof hashType !== 'string' || !Object.hasOwn(OMS_HASH_TYPES, hashType) || (shardSize !== undefined && hashType === 'blake3')) {
    throw signatureInputError('BUNDLE_UNSUPPORTED', `expected hash_type ${Object.keys(OMS_HASH_TYPES).join(', ')} (blake3 never sharded), got ${JSON.stringify(hashType)}`);
  }
  const hash = hashType as OmsHashType;
  if (typeof serialization.allow_symlinks !== 'boolean') throw signatureInputError('PAYLOAD_INVALID', 'expected a boolean allow_symlinks');
  const ignorePaths: unknown = serialization.ignore_paths ?? [];
  if (!Array.isArray(ignorePaths) || !ignorePaths.every((p) => typeof p === 'string')) throw signatureInputError('PAYLOAD_INVALID', 'expected ignore_paths to be strings');
  const algorithms = shardSize === undefined ? [hash] : [hash, `${hash}-sharded-${shardSize}`];

  const resources = predicate.resources.map((entry: unknown, i): OmsResource => {
    const { name, digest, algorithm } = (entry ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || typeof digest !== 'string' || !isHexDigest(digest, hash)) {
      throw signatureInputError('PAYLOAD_INVALID', `resources[${i}]: expected a name and a ${OMS_HASH_TYPES[hash]}-hex ${hash} digest`);
    }
    if (typeof algorithm !== 'string' || !algorithms.includes(algorithm)) {
      throw signatureInputError('BUNDLE_UNSUPPORTED', `resources[${i}]: expected algorithm ${algorithms.join(' or ')}, got ${JSON.stringify(algorithm)}`);
    }
    const shard = shardSize === undefined ? undefined : toShard(name, shardSize, i);
    checkResourcePath(shard ? shard.path : name, i);
    return shard ? { name, digest, shard } : { name, digest };
  });
  assertDistinct(resources);
  // In the order listed, as model_signing verifies (its signer lists them sorted).
  if (computeOmsRoot(resources) !== rootDigest) {
    throw new SignatureFinding('MANIFEST_MISMATCH', `the subject digest ${rootDigest} is not the root digest of the signed resources`);
  }
  const sorted = [...resources].sort((a, b) => compareCodePoints(a.name, b.name));
  return { predicateType: OMS_PREDICATE_TYPE, method, hashType: hash, shardSize, subjectName: subject.name, rootDigest, resources: sorted, ignorePaths: ignorePaths, allowSymlinks: serialization.allow_symlinks };
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
  const match = /^(.+):(\d+):(\d+)$/.exec(name);
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
