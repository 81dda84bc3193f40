import { FINDING_INFO, type Finding } from '../findings.js';
import type { ScanReport } from '../scan/index.js';
import type { VerifyReport } from '../verify/findings.js';
import { formatBytes } from './format.js';
import type { Located, Placement } from './locate.js';
import { escapeMarkdown, toCodeSpan } from './markdown.js';
import { describe } from './sarif.js';

/**
 * One GitHub Actions workflow command per finding (`::error file=…,line=…,title=…::message`),
 * escaped as the Actions toolkit escapes them, so each shows as an annotation on the pull request.
 */
export function renderGithubAnnotations(placement: Placement, verdict: string): string {
  const lines = placement.located.map(toAnnotation);
  // Plain text, yet on its own line: a path in it must not start a workflow command on the next.
  lines.push(verdict.replace(/[\r\n]+/g, ' '));
  return `${lines.join('\n')}\n`;
}

function toAnnotation({ finding, location }: Located): string {
  const properties = [...(location ? [`file=${escapeProperty(location.file)}`, `line=${location.line}`] : []), `title=${escapeProperty(`${finding.code}: ${FINDING_INFO[finding.code].title}`)}`];
  return `::error ${properties.join(',')}::${escapeData(`${describe(finding)}\n${finding.help}`)}`;
}

/** @actions/core's escapeData: the message may hold any text but must stay one line. */
export function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

/** @actions/core's escapeProperty: also ':' and ',', which separate properties. */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

/**
 * The job summary for `verify`: the verdict, a table of artifacts with their status, then the
 * findings. Every name in it (artifacts, paths, messages that quote them) is escaped or in a code
 * span it cannot close: the markdown says what the report says, and nothing more.
 */
export function renderVerifySummary(report: VerifyReport, placement: Placement): string {
  const { summary } = report;
  const lines = [`### aisc verify: ${report.ok ? '✅ verified' : `❌ ${summary.findings} finding${summary.findings === 1 ? '' : 's'}`}`, '', `Lockfile ${toCodeSpan(report.lockfile)}${report.policy ? `, policy ${toCodeSpan(report.policy)}` : ''}${report.gate ? `, ${report.gate.changes.length} change(s) since ${toCodeSpan(report.gate.base)}` : ''}.`, ''];
  const files = report.artifacts.filter((artifact) => artifact.kind !== 'npm');
  const npm = report.artifacts.filter((artifact) => artifact.kind === 'npm');
  lines.push('| Artifact | Kind | Files | Size | Status |', '|---|---|---:|---:|---|');
  for (const artifact of files) lines.push(`| ${escapeMarkdown(artifact.name)} | ${escapeMarkdown(artifact.kind)} | ${artifact.files} | ${formatBytes(artifact.bytes)} | ${status(artifact.findings.length)} |`);
  // Hundreds of packages: the failing ones by name, the rest in one row.
  for (const artifact of npm.filter((a) => !a.ok)) lines.push(`| ${escapeMarkdown(artifact.name)} | npm | | | ${status(artifact.findings.length)} |`);
  const passing = npm.filter((a) => a.ok).length;
  if (passing > 0) lines.push(`| ${passing} npm package${passing === 1 ? '' : 's'} | npm | | | ✅ ok |`);
  lines.push('', ...renderFindingsTable(placement.located));
  return `${lines.join('\n')}\n`;
}

/** The job summary for `scan`. */
export function renderScanSummary(report: ScanReport, placement: Placement): string {
  const { files, bytes, unsafe, skipped } = report.summary;
  const verdict = report.ok ? '✅ nothing unsafe' : `❌ ${unsafe} unsafe or invalid${skipped > 0 ? `, ${skipped} not scanned` : ''}`;
  return `${[`### aisc scan: ${verdict}`, '', `${files} file${files === 1 ? '' : 's'}, ${formatBytes(bytes)}.`, '', ...renderFindingsTable(placement.located)].join('\n')}\n`;
}

function renderFindingsTable(located: readonly Located[]): string[] {
  if (located.length === 0) return [];
  const lines = ['| Severity | Code | Where | Finding |', '|---|---|---|---|'];
  for (const { finding, location } of located) {
    const where = location ? `${toCodeSpan(location.file, { inTable: true })}${location.line > 1 ? `:${location.line}` : ''}` : '';
    lines.push(`| ${finding.severity} | ${toCodeSpan(finding.code, { inTable: true })} | ${where} | ${escapeMarkdown(describeForTable(finding))} |`);
  }
  return lines;
}

function describeForTable(finding: Finding): string {
  return `${describe(finding)}. ${finding.help}`;
}

function status(findings: number): string {
  return findings === 0 ? '✅ ok' : `❌ ${findings} finding${findings === 1 ? '' : 's'}`;
}
