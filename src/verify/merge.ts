import { AiscError } from '../errors.js';
import type { Finding } from '../findings.js';
import { parseJsonStrict, readBoundedText } from '../io/index.js';
import type { ArtifactReport, PackageLockReport, ShardReport, VerifyReport } from './findings.js';

const MAX_REPORT_BYTES = 512 * 1024 * 1024;

/** A `verify --shard I/N --format json` report as read back. */
export interface PartReport {
  path: string;
  report: VerifyReport & { shard: ShardReport };
}

export async function readPartReport(path: string): Promise<PartReport> {
  const text = await readBoundedText(path, { limit: MAX_REPORT_BYTES, what: 'verify report' });
  const value = parseJsonStrict(text, path) as Partial<VerifyReport> & { reportVersion?: unknown };
  if (typeof value !== 'object' || value === null || value.reportVersion !== 1) throw new AiscError('REPORT_INVALID', `${path}: expected an aisc verify --format json report (reportVersion 1)`);
  if (typeof value.lockfile !== 'string' || typeof value.ok !== 'boolean' || !Array.isArray(value.artifacts) || typeof value.summary !== 'object') {
    throw new AiscError('REPORT_INVALID', `${path}: expected ok, lockfile, artifacts and summary`);
  }
  const shard = value.shard;
  if (!shard || !Number.isSafeInteger(shard.index) || !Number.isSafeInteger(shard.count) || shard.index < 1 || shard.index > shard.count || typeof shard.lockfileSha256 !== 'string') {
    throw new AiscError('REPORT_INVALID', `${path}: not the report of a part (made without --shard I/N)`);
  }
  for (const artifact of value.artifacts) {
    if (typeof artifact?.name !== 'string' || !Array.isArray(artifact.findings)) throw new AiscError('REPORT_INVALID', `${path}: an artifact without a name or findings`);
  }
  return { path, report: value as VerifyReport & { shard: ShardReport } };
}

/**
 * One verdict from the reports of every part of one verification: the same lockfile (its
 * SHA-256), the same number of parts, each part exactly once. Every part checks every path and
 * runs every stage but hashing whole, so their findings are joined and repeated ones counted once.
 */
export function mergeReports(parts: readonly PartReport[]): VerifyReport {
  const [first] = parts;
  if (!first) throw new AiscError('USAGE', 'expected the reports of the parts to merge');
  const { count, lockfileSha256 } = first.report.shard;
  for (const { path, report } of parts) {
    if (report.shard.lockfileSha256 !== lockfileSha256) throw new AiscError('REPORTS_MISMATCH', `${path}: verified another lockfile (sha256 ${report.shard.lockfileSha256}) than ${first.path} (sha256 ${lockfileSha256})`);
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
  const { lockfile, policy, gate, lockfileSignature, summary } = first.report;
  return {
    ok: findings === 0,
    lockfile,
    ...(lockfileFindings.length > 0 ? { findings: lockfileFindings } : {}),
    ...(policy !== undefined ? { policy } : {}),
    ...(gate ? { gate } : {}),
    ...(lockfileSignature ? { lockfileSignature } : {}),
    artifacts: artifactList,
    ...(packageLockList.length > 0 ? { packageLocks: packageLockList } : {}),
    summary: { ...summary, findings },
    merged: { parts: count, lockfileSha256, files: parts.reduce((sum, p) => sum + p.report.shard.files, 0), bytes: parts.reduce((sum, p) => sum + p.report.shard.bytes, 0) },
  };
}

/** Findings of both, each once (the same finding from two parts is one finding). */
function union(a: readonly Finding[], b: readonly Finding[]): Finding[] {
  const keys = new Set(a.map((finding) => JSON.stringify(finding)));
  return [...a, ...b.filter((finding) => !keys.has(JSON.stringify(finding)))];
}
