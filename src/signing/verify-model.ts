import { createHash } from 'node:crypto';
import { basename, relative, resolve, sep } from 'node:path';
import { acquireHashPool } from '../hashing/index.js';
import { listTarget, resolveLocalTarget } from '../sources/index.js';
import { getBundlePath, readBundle, type BundleRef } from './bundle.js';
import { DsseContent } from './content.js';
import { isSignatureFinding, signatureInputError } from './errors.js';
import type { HashJob } from '../hashing/types.js';
import type { WalkEntry } from '../sources/index.js';
import { toOmsIgnore, toOmsManifest, toShardRanges, type OmsManifest } from './oms.js';
import { parseStatement } from './statement.js';
import { verifyBundle, type SignerPolicy } from './verify-bundle.js';
import type { SignatureReport } from './verify-file.js';

type Finding = SignatureReport['findings'][number];

/**
 * Verifies an OpenSSF Model Signing v1.0 bundle over a model folder (or a single-file model):
 * the DSSE signature for the signer named, then that the signed resources are exactly the files
 * there now — none missing, none extra, none changed — honouring the signed ignore_paths and
 * skipping the bundle itself.
 */
export async function verifyModelSignature(path: string, bundleRef: BundleRef, policy: SignerPolicy, options: { jobs?: number } = {}): Promise<SignatureReport> {
  const bundlePath = getBundlePath(bundleRef);
  const { bundle, bytes } = await readBundle(bundleRef, { allowV03CertificateChain: policy.kind === 'certificate' });
  const base = { path, bundle: bundlePath, bundleSha256: createHash('sha256').update(bytes).digest('hex'), content: 'model-signing' as const };
  if (bundle.content.$case !== 'dsseEnvelope') throw signatureInputError('BUNDLE_INVALID', `${bundlePath}: expected a DSSE envelope (OpenSSF Model Signing), got a message signature`);
  const manifest = toOmsManifest(parseStatement(bundle.content.dsseEnvelope));
  let signer;
  try {
    signer = verifyBundle(bundle, new DsseContent(bundle.content.dsseEnvelope), policy);
  } catch (error) {
    if (!isSignatureFinding(error)) throw error;
    return { ok: false, ...base, sha256: manifest.rootDigest, findings: [{ code: error.code, message: error.message }] };
  }
  const findings = await compareFiles(path, bundlePath, manifest, options);
  return { ok: findings.length === 0, ...base, sha256: manifest.rootDigest, signer, findings };
}

async function compareFiles(path: string, bundlePath: string, manifest: OmsManifest, options: { jobs?: number }): Promise<Finding[]> {
  const target = resolveLocalTarget(path);
  const ignored = toOmsIgnore(manifest.ignorePaths);
  const bundleRel = relative(target.realRoot, resolve(bundlePath)).split(sep).join('/');
  const entries = listTarget(target, { ignore: () => false, skip: (p) => ignored(p) || p === bundleRel }).filter((e) => e.type !== 'folder');
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
  const files = entries.filter((entry) => {
    if (entry.type === 'file') return true;
    findings.push({ code: 'MANIFEST_MISMATCH', path: entry.path, message: entry.type === 'symlink' ? 'is a symlink (not followed)' : 'is not a regular file' });
    return false;
  });
  for (const entry of files) if (!expected.has(entry.path)) findings.push({ code: 'MANIFEST_MISMATCH', path: entry.path, message: 'is not in the signed manifest (extra file)' });
  const present = new Set(entries.map((e) => e.path));
  for (const name of expected.keys()) if (!present.has(name)) findings.push({ code: 'MANIFEST_MISMATCH', path: name, message: 'is signed but missing' });

  const jobs: { entry: WalkEntry; part: string; job: HashJob }[] = [];
  for (const entry of files) {
    const parts = expected.get(entry.path);
    if (!parts) continue;
    const base = { path: entry.path, root: target.realRoot, followSymlinks: false };
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
  const pool = acquireHashPool(options);
  try {
    const results = await pool.hash(jobs.map((j) => j.job), jobs.map((j) => (j.job.range ? j.job.range.end - j.job.range.start : (j.entry.size ?? 0))));
    const reported = new Set<string>();
    results.forEach((result, i) => {
      const item = jobs[i];
      if (!item || reported.has(item.entry.path)) return;
      const signed = expected.get(item.entry.path)?.get(item.part);
      if (!result.ok) findings.push({ code: result.code, path: item.entry.path, message: result.message });
      else if (result.sha256 !== signed) findings.push({ code: 'MANIFEST_MISMATCH', path: item.entry.path, message: `content differs from the signed digest${item.part ? ` of shard ${item.part}` : ''} (signed ${signed ?? '?'}, got ${result.sha256})` });
      else return;
      reported.add(item.entry.path);
    });
  } finally {
    await pool.close();
  }
  return findings;
}
