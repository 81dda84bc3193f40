import { createHash } from 'node:crypto';
import { createReadStream, existsSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { forEachConcurrent } from '../concurrent.js';
import type { HashFailureCode } from '../findings.js';
import { acquireHashPool } from '../hashing/index.js';
import { DEFAULT_IGNORED, listTarget, resolveLocalTarget, type WalkEntry } from '../sources/index.js';
import { getBundlePath, readBundle, type BundleRef } from './bundle.js';
import { DsseContent } from './content.js';
import { isSignatureFinding, signatureInputError } from './errors.js';
import type { HashJob, HashResult } from '../hashing/types.js';
import { OMS_PREDICATE_TYPE_V01, toOmsIgnore, toOmsManifest, toShardRanges, type OmsHashType, type OmsManifest } from './oms.js';
import type { Envelope } from '@sigstore/bundle';
import { parseStatement } from './statement.js';
import { verifyBundle, type SignerPolicy } from './verify-bundle.js';
import type { SignatureReport } from './verify-file.js';

type Finding = SignatureReport['findings'][number];

/** How the model's files are listed, with model_signing's meanings (its verify flags of the same names). */
export interface ModelVerifyOptions {
  jobs?: number;
  /** --ignore-paths: paths from the working folder (or absolute); those outside the model are dropped. */
  ignorePaths?: readonly string[];
  /** Git metadata (.git, .gitattributes, .github, .gitignore) is not part of the model (default true). */
  ignoreGitPaths?: boolean;
  /** Follow symlinks to files inside the model (refused by default). */
  allowSymlinks?: boolean;
  /** Only the signed files are checked: files that were not signed are not extra. */
  ignoreUnsignedFiles?: boolean;
  /** What --ignore-paths are relative to (the process's working folder). */
  cwd?: string;
}

/**
 * Verifies an OpenSSF Model Signing bundle over a model folder (or a single-file model): the DSSE
 * signature for the signer named, then that the signed resources are exactly the files there
 * now — none missing, none extra, none changed — honouring the signed ignore_paths, the ignore
 * paths given, git metadata and the bundle itself.
 */
export async function verifyModelSignature(path: string, bundleRef: BundleRef, policy: SignerPolicy, options: ModelVerifyOptions = {}): Promise<SignatureReport> {
  const bundlePath = getBundlePath(bundleRef);
  const { bundle, bytes } = await readBundle(bundleRef, { allowV03CertificateChain: policy.kind !== 'keyless' });
  const base = { path, bundle: bundlePath, bundleSha256: createHash('sha256').update(bytes).digest('hex'), content: 'model-signing' as const };
  if (bundle.content.$case !== 'dsseEnvelope') throw signatureInputError('BUNDLE_INVALID', `${bundlePath}: expected a DSSE envelope (OpenSSF Model Signing), got a message signature`);
  const manifest = toOmsManifest(parseStatement(bundle.content.dsseEnvelope));
  let signer;
  try {
    signer = verifyBundle(bundle, toOmsContent(bundle.content.dsseEnvelope, manifest, policy), policy);
  } catch (error) {
    if (!isSignatureFinding(error)) throw error;
    return { ok: false, ...base, sha256: manifest.rootDigest, findings: [{ code: error.code, message: error.message }] };
  }
  const findings = await compareFiles(path, bundlePath, manifest, options);
  return { ok: findings.length === 0, ...base, sha256: manifest.rootDigest, signer, findings };
}

/** The envelope as model_signing verifies it: a v0.1 statement (model_signing v0.2) may carry its mis-encoded PAE. */
export function toOmsContent(envelope: Envelope, manifest: OmsManifest, policy: SignerPolicy): DsseContent {
  if (manifest.predicateType !== OMS_PREDICATE_TYPE_V01 || policy.kind === 'keyless') return new DsseContent(envelope);
  return new DsseContent(envelope, policy.kind === 'certificate' ? 'model-signing-v0.2-certificate' : 'model-signing-v0.2-key');
}

/** What model_signing leaves out of a folder: the signed ignore_paths, the given ones, git metadata, the bundle. */
function toIgnored(realRoot: string, bundlePath: string, manifest: OmsManifest, options: ModelVerifyOptions): (path: string) => boolean {
  const given = resolveModelPaths(realRoot, [...(options.ignorePaths ?? []), bundlePath], options.cwd);
  return toOmsIgnore([...manifest.ignorePaths, ...given, ...(options.ignoreGitPaths === false ? [] : DEFAULT_IGNORED)]);
}

/**
 * Paths given on the command line as model_signing reads them: from the working folder (or
 * absolute), then relative to the model's root; a path outside the model is dropped.
 */
export function resolveModelPaths(realRoot: string, paths: readonly string[], cwd = process.cwd()): string[] {
  return paths.flatMap((p) => {
    const absolute = resolve(cwd, p);
    // A file not there yet (the bundle about to be written) is placed by its folder's real path.
    const real = existsSync(absolute) ? realpathSync(absolute) : existsSync(dirname(absolute)) ? join(realpathSync(dirname(absolute)), basename(absolute)) : absolute;
    const inside = relative(realRoot, real);
    return inside === '' || inside.startsWith('..') || isAbsolute(inside) ? [] : [inside.split(sep).join('/')];
  });
}

async function compareFiles(path: string, bundlePath: string, manifest: OmsManifest, options: ModelVerifyOptions): Promise<Finding[]> {
  const target = resolveLocalTarget(path);
  // A single-file model ignores nothing (as model_signing): there is only the file.
  const ignored = target.layout === 'directory' ? toIgnored(target.realRoot, bundlePath, manifest, options) : () => false;
  const entries = listTarget(target, { ignore: () => false, skip: ignored }).filter((e) => e.type !== 'folder');
  const findings: Finding[] = [];
  // What is signed, per file: one digest for the whole file, or one per shard ('start:end').
  const expected = new Map<string, Map<string, string>>();
  for (const resource of manifest.resources) {
    const signedPath = resource.shard?.path ?? resource.name;
    // A single-file model is named '.' by model_signing (or by its base name).
    const name = target.layout === 'file' && (signedPath === '.' || signedPath === basename(path)) ? (target.fileName ?? signedPath) : signedPath;
    const parts = expected.get(name) ?? new Map<string, string>();
    parts.set(resource.shard ? `${resource.shard.start}:${resource.shard.end}` : '', resource.digest);
    expected.set(name, parts);
  }
  const unsigned = (entry: WalkEntry): boolean => !expected.has(entry.path);
  const follow = followsSymlinks(manifest, options);
  const files = entries.filter((entry) => {
    // --ignore-unsigned-files: only what was signed is looked at.
    if (options.ignoreUnsignedFiles && unsigned(entry)) return false;
    if (entry.type === 'file') return true;
    if (entry.type === 'symlink' && follow && entry.target === 'file-inside') return true;
    // A link to a folder is not descended into, as model_signing's walk does not.
    if (entry.type === 'symlink' && follow && entry.target === 'folder') return false;
    findings.push(describeRefused(entry, follow, options.allowSymlinks === true));
    return false;
  });
  for (const entry of files) {
    // Sharded, an empty file has no shard: model_signing lists nothing for it.
    if (unsigned(entry) && !(manifest.method === 'shards' && entry.size === 0)) findings.push({ code: 'MANIFEST_MISMATCH', path: entry.path, message: 'is not in the signed manifest (extra file)' });
  }
  const present = new Set(entries.map((e) => e.path));
  for (const name of expected.keys()) if (!present.has(name)) findings.push({ code: 'MANIFEST_MISMATCH', path: name, message: 'is signed but missing' });

  const jobs: { entry: WalkEntry; part: string; job: HashJob }[] = [];
  for (const entry of files) {
    const parts = expected.get(entry.path);
    if (!parts) continue;
    const base = { path: entry.path, root: target.realRoot, followSymlinks: entry.type === 'symlink' };
    if (manifest.shardSize === undefined) {
      jobs.push({ entry, part: '', job: base });
      continue;
    }
    const ranges = toShardRanges(entry.size ?? 0, manifest.shardSize);
    const keys = ranges.map((r) => `${r.start}:${r.end}`);
    if (keys.length !== parts.size || keys.some((key) => !parts.has(key))) {
      findings.push({ code: 'MANIFEST_MISMATCH', path: entry.path, message: `its ${entry.size ?? 0} bytes do not cut into the signed shards (size changed)` });
      continue;
    }
    ranges.forEach((range, i) => jobs.push({ entry, part: keys[i] ?? '', job: { ...base, range } }));
  }
  const results = manifest.hashType === 'sha256' ? await hashOnPool(jobs, options) : await hashInProcess(jobs.map((j) => j.job), manifest.hashType, options);
  const reported = new Set<string>();
  results.forEach((result, i) => {
    const item = jobs[i];
    if (!item || reported.has(item.entry.path)) return;
    const signed = expected.get(item.entry.path)?.get(item.part);
    if (!result.ok) findings.push({ code: result.code, path: item.entry.path, message: result.message });
    else if (result.digest !== signed) findings.push({ code: 'MANIFEST_MISMATCH', path: item.entry.path, message: `content differs from the signed ${manifest.hashType} digest${item.part ? ` of shard ${item.part}` : ''} (signed ${signed ?? '?'}, got ${result.digest})` });
    else return;
    reported.add(item.entry.path);
  });
  return findings;
}

/**
 * Links are followed only when both say so: the user (--allow-symlinks: aisc follows no link
 * unasked) and the signer (OMS §6.1.1: the verifier applies the signed allow_symlinks; a model
 * signed without following links has none). model_signing v0.2's statement records nothing.
 */
function followsSymlinks(manifest: OmsManifest, options: ModelVerifyOptions): boolean {
  return options.allowSymlinks === true && (manifest.predicateType === OMS_PREDICATE_TYPE_V01 || manifest.allowSymlinks);
}

function describeRefused(entry: WalkEntry, follow: boolean, asked: boolean): Finding {
  if (entry.type !== 'symlink') return { code: 'MANIFEST_MISMATCH', path: entry.path, message: 'is not a regular file' };
  if (!follow && asked) return { code: 'SYMLINK_REFUSED', path: entry.path, message: 'is a symlink, and the bundle was signed with allow_symlinks false: links are not followed (OMS v1.0 §6.1.1)' };
  if (!follow) return { code: 'SYMLINK_REFUSED', path: entry.path, message: 'is a symlink (pass --allow-symlinks to follow links inside the model)' };
  return { code: entry.target === 'outside' ? 'SYMLINK_OUTSIDE_ROOT' : 'MANIFEST_MISMATCH', path: entry.path, message: entry.target === 'outside' ? 'is a symlink that leaves the model (not followed)' : 'is a symlink to nothing' };
}

type DigestResult = { ok: true; digest: string } | { ok: false; code: HashFailureCode; message: string };

async function hashOnPool(jobs: readonly { entry: WalkEntry; job: HashJob }[], options: ModelVerifyOptions): Promise<DigestResult[]> {
  const pool = acquireHashPool(options);
  try {
    const results = await pool.hash(jobs.map((j) => j.job), jobs.map((j) => (j.job.range ? j.job.range.end - j.job.range.start : (j.entry.size ?? 0))));
    return results.map((result: HashResult) => (result.ok ? { ok: true, digest: result.sha256 } : result));
  } finally {
    await pool.close();
  }
}

/**
 * BLAKE2b (Node's own) and BLAKE3 (hash-wasm's WebAssembly build): streamed in this process, a
 * few files at a time. These manifests are rare next to SHA-256, which runs on the worker pool.
 */
async function hashInProcess(jobs: readonly HashJob[], hashType: Exclude<OmsHashType, 'sha256'>, options: ModelVerifyOptions): Promise<DigestResult[]> {
  const results: DigestResult[] = [];
  await forEachConcurrent(jobs.map((job, index) => ({ job, index })), Math.max(1, Math.min(options.jobs ?? 4, 8)), async ({ job, index }) => {
    results[index] = await hashStreamed(join(job.root, job.path), hashType, job.range).then(
      (digest): DigestResult => ({ ok: true, digest }),
      (error: unknown): DigestResult => ({ ok: false, code: 'UNREADABLE_FILE', message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` }),
    );
  });
  return results;
}

/** A file's (or a byte range's) digest with an OMS hash, streamed in this process. */
export async function hashStreamed(file: string, hashType: OmsHashType, range?: { start: number; end: number }): Promise<string> {
  const hasher = hashType === 'blake3' ? await toBlake3Hasher() : toNodeHasher(hashType === 'blake2b' ? 'blake2b512' : 'sha256');
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024, ...(range ? { start: range.start, end: range.end - 1 } : {}) });
  for await (const chunk of stream) hasher.update(chunk as Buffer);
  return hasher.digest();
}

interface StreamHasher {
  update(chunk: Uint8Array): void;
  digest(): string;
}

function toNodeHasher(algorithm: string): StreamHasher {
  const hash = createHash(algorithm);
  return { update: (chunk) => hash.update(chunk), digest: () => hash.digest('hex') };
}

async function toBlake3Hasher(): Promise<StreamHasher> {
  const { createBLAKE3 } = await import('hash-wasm');
  const hash = await createBLAKE3();
  hash.init();
  return { update: (chunk) => hash.update(chunk), digest: () => hash.digest('hex') };
}
