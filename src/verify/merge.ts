import { createHash } from 'node:crypto';
import { AiscError, isAiscError } from '../errors.js';
import type { Finding } from '../findings.js';
import { decodeLockfile, parseLockfile, readLockfileBytes, toManifestReader } from '../lockfile/index.js';
import type { FileArtifact, Lockfile } from '../lockfile/types.js';
import type { ArtifactReport, PackageLockReport, VerifiedSources, VerifyReport } from './findings.js';
import { readPartReport, type PartReport } from './part-report.js';
import { assignShards, describeShare, toShardUnits } from './shard.js';

/** The lockfile the parts verified, as the merge read it. */
export interface MergedLockfile {
  path: string;
  sha256: string;
  lockfile: Lockfile;
}

/**
 * `aisc report merge`: the parts' reports and the lockfile they verified, read (bounded), then
 * merged; with the lockfile's text for placing the findings.
 */
export async function mergeReportFiles(paths: readonly string[], lockfilePath: string): Promise<{ report: VerifyReport; sources: VerifiedSources }> {
  const parts = await Promise.all(paths.map((path) => readPartReport(path)));
  const bytes = await readLockfileBytes(lockfilePath).catch((error: unknown) => {
    // Without the lockfile nothing says which files the parts must add up to: no verdict.
    if (isAiscError(error) && error.code === 'LOCKFILE_NOT_FOUND') throw new AiscError('REPORT_INVALID', `${lockfilePath}: no such lockfile; the merge recomputes the parts' split from the lockfile they verified (--lockfile FILE)`, { cause: error });
    throw error;
  });
  const text = decodeLockfile(bytes, lockfilePath);
  const lockfile = await parseLockfile(text, lockfilePath, toManifestReader(lockfilePath));
  const report = mergeReports(parts, { path: lockfilePath, sha256: createHash('sha256').update(bytes).digest('hex'), lockfile });
  return { report, sources: { lockfile: text, packageLocks: new Map() } };
}

/**
 * One verdict from the reports of every part of one verification of `lockfile`: each verified
 * those bytes (its SHA-256), all are parts of the same split, each part is there exactly once,
 * and each owns what the split of this lockfile gives it (files, bytes and which files), so the
 * parts add up to every locked file. Every part checks every path and runs every stage but
 * hashing whole, so each must list every artifact; their findings are joined and repeated ones
 * counted once. A part edited to another count, another share or none is refused, not merged.
 */
export function mergeReports(parts: readonly PartReport[], lockfile: MergedLockfile): VerifyReport {
  const [first] = parts;
  if (!first) throw new AiscError('USAGE', 'expected the reports of the parts to merge');
  const { count } = first.report.shard;
  for (const { path, report } of parts) {
    if (report.shard.lockfileSha256 !== lockfile.sha256) throw new AiscError('REPORTS_MISMATCH', `${path}: verified another lockfile (sha256 ${report.shard.lockfileSha256}) than ${lockfile.path} (sha256 ${lockfile.sha256})`);
    if (report.shard.count !== count) throw new AiscError('REPORTS_MISMATCH', `${path}: is part ${report.shard.index} of ${report.shard.count}; ${first.path} is part of ${count}`);
    if (report.policy !== first.report.policy || report.gate?.changeDigest !== first.report.gate?.changeDigest) {
      throw new AiscError('REPORTS_MISMATCH', `${path}: applied another policy or base than ${first.path}`);
    }
  }
  const seen = new Map<number, string>();
  for (const { path, report } of parts) {
    const twice = seen.get(report.shard.index);
    if (twice !== undefined) throw new AiscError('REPORTS_MISMATCH', `${path}: part ${report.shard.index}/${count} is also ${twice}`);
    seen.set(report.shard.index, path);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((index) => !seen.has(index));
  if (missing.length > 0) throw new AiscError('REPORTS_INCOMPLETE', `part${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${count}`).join(', ')} not given: ${missing.length === 1 ? 'its' : 'their'} files are unverified`);
  assertShares(parts, lockfile);
  assertArtifacts(parts, lockfile);

  const artifacts = new Map<string, ArtifactReport>();
  const packageLocks = new Map<string, PackageLockReport>();
  const lockfileFindings: Finding[] = [];
  for (const { report } of parts) {
    for (const artifact of report.artifacts) {
      const merged = artifacts.get(artifact.name);
      artifacts.set(artifact.name, merged ? { ...merged, findings: union(merged.findings, artifact.findings) } : { ...artifact });
    }
    for (const packageLock of report.packageLocks ?? []) {
      const merged = packageLocks.get(packageLock.path);
      packageLocks.set(packageLock.path, merged ? { ...merged, findings: union(merged.findings, packageLock.findings) } : { ...packageLock });
    }
    lockfileFindings.splice(0, lockfileFindings.length, ...union(lockfileFindings, report.findings ?? []));
  }
  const artifactList = [...artifacts.values()].map((artifact) => ({ ...artifact, ok: artifact.findings.length === 0 }));
  const packageLockList = [...packageLocks.values()].map((packageLock) => ({ ...packageLock, ok: packageLock.findings.length === 0 }));
  const findings = artifactList.reduce((sum, a) => sum + a.findings.length, 0) + packageLockList.reduce((sum, p) => sum + p.findings.length, 0) + lockfileFindings.length;
  const { policy, gate, lockfileSignature } = first.report;
  const files = fileArtifacts(lockfile.lockfile).flatMap(([, artifact]) => artifact.files);
  const bytes = files.reduce((sum, file) => sum + file.size, 0);
  return {
    ok: findings === 0,
    lockfile: lockfile.path,
    ...(lockfileFindings.length > 0 ? { findings: lockfileFindings } : {}),
    ...(policy !== undefined ? { policy } : {}),
    ...(gate ? { gate } : {}),
    ...(lockfileSignature ? { lockfileSignature } : {}),
    artifacts: artifactList,
    ...(packageLockList.length > 0 ? { packageLocks: packageLockList } : {}),
    // What the lockfile pins, not what a part says it does.
    summary: { artifacts: lockfile.lockfile.artifacts.size, files: files.length, bytes, npmPackages: lockfile.lockfile.artifacts.size - fileArtifacts(lockfile.lockfile).length, findings },
    merged: { parts: count, lockfileSha256: lockfile.sha256, files: parts.reduce((sum, p) => sum + p.report.shard.files, 0), bytes: parts.reduce((sum, p) => sum + p.report.shard.bytes, 0) },
  };
}

/** Each part owns exactly what the split of this lockfile into `count` gives it: a locked file no part owns cannot pass. */
function assertShares(parts: readonly PartReport[], lockfile: MergedLockfile): void {
  const units = toShardUnits(fileArtifacts(lockfile.lockfile));
  const count = parts[0]?.report.shard.count ?? 1;
  const assigned = assignShards(units.sizes, units.keys, count);
  for (const { path, report } of parts) {
    const { index, files, bytes, filesSha256 } = report.shard;
    const share = describeShare(units, assigned, index);
    if (files !== share.files || bytes !== share.bytes || filesSha256 !== share.filesSha256) {
      const which = filesSha256 === share.filesSha256 ? '' : ` (other files: sha256 ${filesSha256}, expected ${share.filesSha256})`;
      throw new AiscError('REPORT_INVALID', `${path}: part ${index}/${count} of ${lockfile.path} owns ${share.files} files, ${share.bytes} bytes; the report says ${files} files, ${bytes} bytes${which}`);
    }
  }
}

/** Every part lists every artifact the lockfile pins, of the kind it pins, and no other. */
function assertArtifacts(parts: readonly PartReport[], lockfile: MergedLockfile): void {
  for (const { path, report } of parts) {
    const listed = new Map(report.artifacts.map((artifact) => [artifact.name, artifact.kind]));
    const missing = [...lockfile.lockfile.artifacts].filter(([name, artifact]) => listed.get(name) !== artifact.kind).map(([name]) => name);
    const extra = [...listed.keys()].filter((name) => !lockfile.lockfile.artifacts.has(name));
    if (missing.length > 0 || extra.length > 0 || listed.size !== report.artifacts.length) {
      const what = [missing.length > 0 ? `leaves out ${missing.map((n) => JSON.stringify(n)).join(', ')}` : '', extra.length > 0 ? `lists ${extra.map((n) => JSON.stringify(n)).join(', ')}, which it does not pin` : ''].filter(Boolean);
      throw new AiscError('REPORT_INVALID', `${path}: expected every artifact ${lockfile.path} pins, once each; the report ${what.join(' and ') || 'lists one twice'}`);
    }
  }
}

function fileArtifacts(lockfile: Lockfile): [string, FileArtifact][] {
  return [...lockfile.artifacts].filter((entry): entry is [string, FileArtifact] => entry[1].kind !== 'npm');
}

/** Findings of both, each once (the same finding from two parts is one finding). */
function union(a: readonly Finding[], b: readonly Finding[]): Finding[] {
  const keys = new Set(a.map((finding) => JSON.stringify(finding)));
  return [...a, ...b.filter((finding) => !keys.has(JSON.stringify(finding)))];
}
