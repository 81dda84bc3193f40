import type { Finding, GateReport, VerifyReport } from '../verify/findings.js';
import type { VerifiedSigner } from '../signing/verify-bundle.js';
import { formatBytes } from './format.js';
import { describeSigner } from './signature-report.js';
import { getPaint } from './style.js';

/** The human report: a line per artifact (per failing npm package), each finding under it, a verdict last. */
export function renderVerifyHuman(report: VerifyReport, color = false): string {
  const paint = getPaint(color);
  const OK = paint.ok('ok  ');
  const FAIL = paint.fail('FAIL');
  const lines: string[] = [];
  const signed = report.lockfileSignature;
  if (signed?.ok) lines.push(`${OK} ${report.lockfile}: ${describeSigner(signed.signer as VerifiedSigner)} (bundle ${signed.bundle})`);
  else if (signed) {
    lines.push(`${FAIL} ${report.lockfile}: its signature (bundle ${signed.bundle}) does not verify`);
  }
  for (const artifact of report.artifacts) {
    const status = artifact.ok ? OK : FAIL;
    if (artifact.kind === 'npm') {
      // Hundreds of packages: only the failing ones get a line of their own.
      if (!artifact.ok) lines.push(`${FAIL} ${artifact.name} (npm, from ${artifact.root})`);
    } else {
      lines.push(`${status} ${artifact.name} (${artifact.kind}): ${artifact.files} file${artifact.files === 1 ? '' : 's'}, ${formatBytes(artifact.bytes)}${artifact.root === '' ? '' : ` at ${artifact.root}`}`);
    }
    for (const finding of artifact.findings) lines.push(`       ${describeFinding(finding)}`);
  }
  for (const packageLock of report.packageLocks ?? []) {
    const failed = report.artifacts.filter((a) => a.kind === 'npm' && a.root === packageLock.path && !a.ok).length;
    const ok = packageLock.ok && failed === 0;
    lines.push(`${ok ? OK : FAIL} ${packageLock.path}: ${packageLock.packages} npm package${packageLock.packages === 1 ? '' : 's'} locked${ok ? ', all match and their evidence verifies' : `, ${failed} with findings`}`);
    for (const finding of packageLock.findings) lines.push(`       ${describeFinding(finding)}`);
  }
  // Approvals are told under the gate; the rest of the lockfile's own findings here.
  for (const finding of (report.findings ?? []).filter((f) => f.code !== 'APPROVALS_MISSING' && !signed?.findings.includes(f))) lines.push(`${FAIL} ${report.lockfile}: ${finding.code}: ${finding.message}`);
  for (const finding of signed?.findings ?? []) lines.push(`       ${finding.code}: ${finding.message}`);
  if (report.gate) lines.push(...renderGate(report.gate));
  if (report.cache) lines.push(paint.dim(`cache: ${plural(report.cache.hits, 'file')} unchanged since read (not read again), ${report.cache.misses} read (${report.cache.path})`));
  if (report.cache?.notSaved) lines.push(`cache: not saved, the next verify reads these files again: ${report.cache.notSaved}`);
  const verdict = renderVerifyVerdict(report);
  lines.push(report.ok ? verdict : paint.fail(verdict));
  return `${lines.join('\n')}\n`;
}

/** The last line of every human report: what was verified, or how many findings where. */
export function renderVerifyVerdict(report: VerifyReport): string {
  const { summary, shard } = report;
  // A part checks every file's path but hashes only its share: say which share.
  const merged = report.merged;
  const part = shard
    ? ` (shard ${shard.index}/${shard.count}: hashed ${plural(shard.files, 'file')}, ${formatBytes(shard.bytes)} of them)`
    : merged
      ? ` (${merged.parts} parts merged: ${plural(merged.files, 'file')}, ${formatBytes(merged.bytes)} hashed)`
      : '';
  if (report.ok) return `verified ${describeCounts(summary)}${part}: all match ${report.lockfile}`;
  const inArtifacts = report.artifacts.reduce((sum, a) => sum + a.findings.length, 0) + (report.packageLocks ?? []).reduce((sum, p) => sum + p.findings.length, 0);
  if (inArtifacts === 0) {
    const gateMissing = report.gate?.findings.length ?? 0;
    if (gateMissing > 0) return `FAILED: ${plural(gateMissing, 'change')} lack the approvals the base policy requires (${report.lockfile})`;
    if (report.lockfileSignature && !report.lockfileSignature.ok) return `FAILED: the lockfile's signature does not verify (${report.lockfile})`;
  }
  const failedFiles = report.artifacts.filter((a) => !a.ok && a.kind !== 'npm').length;
  const failedNpm = report.artifacts.filter((a) => !a.ok && a.kind === 'npm').length;
  const lockDrift = (report.packageLocks ?? []).some((p) => !p.ok) ? ' and their package-lock.json' : '';
  return `FAILED: ${plural(summary.findings, 'finding')} in ${describeCounts(summary, { files: failedFiles, npm: failedNpm })}${lockDrift}${part} (${report.lockfile})`;
}

/**
 * The same words for success and failure: `1 artifact, 5 files, 1.2 KiB and 252 npm packages`,
 * and with `failed`, `1 of 2 artifacts, … and 3 of 252 npm packages`.
 */
function describeCounts(summary: VerifyReport['summary'], failed?: { files: number; npm: number }): string {
  const artifacts = summary.artifacts - summary.npmPackages;
  const parts = [];
  if (artifacts > 0 || summary.npmPackages === 0) {
    parts.push(`${failed ? `${failed.files} of ` : ''}${plural(artifacts, 'artifact')}, ${plural(summary.files, 'file')}, ${formatBytes(summary.bytes)}`);
  }
  if (summary.npmPackages > 0) parts.push(`${failed ? `${failed.npm} of ` : ''}${plural(summary.npmPackages, 'npm package')}`);
  return parts.join(' and ');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function renderGate(gate: GateReport): string[] {
  const lines = [`${gate.findings.length === 0 ? 'ok  ' : 'FAIL'} ${gate.changes.length} change${gate.changes.length === 1 ? '' : 's'} since ${gate.base}, judged by ${gate.basePolicy ?? 'no base policy'}`];
  for (const change of gate.changes) lines.push(`       ${change.class} ${change.artifact ?? '(policy)'}: ${change.summary}`);
  if (gate.approvals.length > 0) lines.push(`       approved by ${[...new Set(gate.approvals.map((a) => a.reviewer))].sort().join(', ')}`);
  for (const finding of gate.findings) lines.push(`       ${finding.code}: ${finding.message}`);
  for (const ignored of gate.ignored) lines.push(`       ignored approval ${ignored.file}: ${ignored.reason}`);
  return lines;
}

export function describeFinding(finding: Finding): string {
  const where = finding.path === undefined ? '' : ` ${finding.path}`;
  const values = finding.expected !== undefined && finding.actual !== undefined ? ` (expected ${String(finding.expected)}, got ${String(finding.actual)})` : '';
  return `${finding.code}${where}: ${finding.message}${values}`;
}
