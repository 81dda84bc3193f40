import { AiscError } from '../errors.js';
import { FINDING_INFO, toFinding, type Finding, type FindingCode } from '../findings.js';
import { parseJsonStrict, readBoundedText } from '../io/index.js';
import { ARTIFACT_KINDS } from '../lockfile/types.js';
import type { ArtifactReport, GateReport, LockfileSignatureReport, PackageLockReport, ShardReport, VerifyReport } from './findings.js';

const MAX_REPORT_BYTES = 512 * 1024 * 1024;

/** A `verify --shard I/N --format json` report as read back. */
export interface PartReport {
  path: string;
  report: VerifyReport & { shard: ShardReport };
}

/**
 * Reads a part's `--format json` report back, refusing (REPORT_INVALID, exit 2) anything that is
 * not one: every field the merge or a renderer reads is checked, and each finding is rebuilt from
 * its code, so a report's severity and help are aisc's own, not the file's.
 */
export async function readPartReport(path: string): Promise<PartReport> {
  const text = await readBoundedText(path, { limit: MAX_REPORT_BYTES, what: 'verify report' });
  const report = parseJsonStrict(text, path) as Record<string, unknown> | null;
  const fail: Fail = (what) => {
    throw new AiscError('REPORT_INVALID', `${path}: ${what}`);
  };
  if (!isObject(report) || report.reportVersion !== 1) fail('expected an aisc verify --format json report (reportVersion 1)');
  const shard = report.shard;
  if (!isObject(shard) || !isCount(shard.index) || !isCount(shard.count) || shard.index < 1 || shard.index > shard.count || !isSha256(shard.lockfileSha256) || !isCount(shard.files) || !isCount(shard.bytes) || !isSha256(shard.filesSha256)) {
    fail('not the report of a part (made without --shard I/N, or by an aisc that did not record which files it owns)');
  }
  const summary = report.summary;
  if (!isString(report.lockfile) || typeof report.ok !== 'boolean' || !Array.isArray(report.artifacts) || !isObject(summary) || !['artifacts', 'files', 'bytes', 'npmPackages', 'findings'].every((key) => isCount(summary[key]))) {
    fail('expected ok, lockfile, artifacts and summary {artifacts, files, bytes, npmPackages, findings}');
  }
  if (report.policy !== undefined && !isString(report.policy)) fail('expected policy to be a path');
  const artifacts = (report.artifacts as unknown[]).map((artifact, i): ArtifactReport => {
    const where = `artifacts[${i}]`;
    if (!isObject(artifact) || !isString(artifact.name) || !isString(artifact.root) || !(ARTIFACT_KINDS as readonly unknown[]).concat('npm').includes(artifact.kind) || !isCount(artifact.files) || !isCount(artifact.bytes)) {
      return fail(`${where}: expected name, kind, root, files and bytes`);
    }
    return { name: artifact.name, kind: artifact.kind as ArtifactReport['kind'], root: artifact.root, ok: false, files: artifact.files, bytes: artifact.bytes, findings: readFindings(artifact.findings, where, fail) };
  });
  const packageLocks = report.packageLocks === undefined
    ? undefined
    : Array.isArray(report.packageLocks)
      ? report.packageLocks.map((packageLock: unknown, i): PackageLockReport => {
          if (!isObject(packageLock) || !isString(packageLock.path) || !isCount(packageLock.packages)) return fail(`packageLocks[${i}]: expected path and packages`);
          return { path: packageLock.path, packages: packageLock.packages, ok: false, findings: readFindings(packageLock.findings, `packageLocks[${i}]`, fail) };
        })
      : fail('expected packageLocks to be a list');
  return {
    path,
    report: {
      ok: report.ok,
      lockfile: report.lockfile,
      ...(report.findings !== undefined ? { findings: readFindings(report.findings, 'findings', fail) } : {}),
      ...(report.policy !== undefined ? { policy: report.policy } : {}),
      ...(report.gate !== undefined ? { gate: readGate(report.gate, fail) } : {}),
      ...(report.lockfileSignature !== undefined ? { lockfileSignature: readLockfileSignature(report.lockfileSignature, fail) } : {}),
      artifacts,
      ...(packageLocks ? { packageLocks } : {}),
      summary: summary as VerifyReport['summary'],
      shard: { index: shard.index, count: shard.count, lockfileSha256: shard.lockfileSha256, files: shard.files, bytes: shard.bytes, filesSha256: shard.filesSha256 },
    },
  };
}

type Fail = (what: string) => never;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isSha256(value: unknown): value is string {
  return isString(value) && /^[0-9a-f]{64}$/.test(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** Findings rebuilt from their fields: a code aisc knows, a message, and values where they mean something. */
function readFindings(list: unknown, where: string, fail: Fail): Finding[] {
  if (!Array.isArray(list)) return fail(`${where}: expected a list of findings`);
  return list.map((finding: unknown, i) => {
    const at = `${where}.findings[${i}]`;
    if (!isObject(finding) || !isString(finding.code) || !Object.hasOwn(FINDING_INFO, finding.code) || !isString(finding.message)) return fail(`${at}: expected a finding with a known code and a message`);
    const { artifact, path, rule, expected, actual } = finding;
    const value = (v: unknown): v is string | number | undefined => v === undefined || isString(v) || Number.isFinite(v);
    if ((artifact !== undefined && !isString(artifact)) || (path !== undefined && !isString(path)) || (rule !== undefined && !isCount(rule)) || !value(expected) || !value(actual)) {
      return fail(`${at}: expected artifact and path as text, rule as a count, expected/actual as text or numbers`);
    }
    return toFinding({ code: finding.code as FindingCode, artifact, path, rule, message: finding.message, expected, actual });
  });
}

function readGate(gate: unknown, fail: Fail): GateReport {
  const ok =
    isObject(gate) &&
    isString(gate.base) &&
    isString(gate.changeDigest) &&
    (gate.basePolicy === undefined || isString(gate.basePolicy)) &&
    Array.isArray(gate.changes) &&
    gate.changes.every((c: unknown) => isObject(c) && isString(c.class) && isString(c.summary) && (c.artifact === undefined || isString(c.artifact))) &&
    Array.isArray(gate.approvals) &&
    gate.approvals.every((a: unknown) => isObject(a) && isString(a.reviewer) && isString(a.file) && isString(a.approvedAt)) &&
    Array.isArray(gate.ignored) &&
    gate.ignored.every((g: unknown) => isObject(g) && isString(g.file) && isString(g.reason) && (g.reviewer === undefined || isString(g.reviewer)));
  if (!ok) return fail('expected gate {base, changeDigest, changes, approvals, ignored, findings} as verify writes it');
  const findings = readFindings(gate.findings, 'gate', fail);
  if (findings.some((finding) => finding.code !== 'APPROVALS_MISSING')) return fail('gate.findings: expected APPROVALS_MISSING findings only');
  return { ...(gate as unknown as GateReport), findings };
}

function readLockfileSignature(signature: unknown, fail: Fail): LockfileSignatureReport {
  if (!isObject(signature) || typeof signature.ok !== 'boolean' || !isString(signature.bundle)) return fail('expected lockfileSignature {ok, bundle, signer, findings}');
  const signer = signature.signer;
  const known =
    isObject(signer) &&
    ((signer.kind === 'keyless' && isString(signer.identity) && isString(signer.issuer)) ||
      (signer.kind === 'key' && isString(signer.keyFingerprint)) ||
      (signer.kind === 'certificate' && isString(signer.subject) && isString(signer.certificateFingerprint)));
  if (signature.ok && !known) return fail('expected lockfileSignature.signer of kind keyless, key or certificate');
  return { ok: signature.ok, bundle: signature.bundle, ...(known ? { signer } : {}), findings: readFindings(signature.findings, 'lockfileSignature', fail) };
}
