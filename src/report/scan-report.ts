import type { ScanReport } from '../scan/index.js';
import { formatBytes } from './format.js';
import { getPaint } from './style.js';

/** One line per file (its format, and each finding under it); a verdict last. */
export function renderScanHuman(report: ScanReport, color = false): string {
  const paint = getPaint(color);
  const lines: string[] = [];
  for (const file of report.files) {
    const imports = file.imports.length > 0 ? ` imports ${file.imports.join(', ')}` : '';
    lines.push(`${file.findings.length > 0 ? paint.fail('UNSAFE') : paint.ok('ok    ')} ${file.path}: ${file.format}${imports}`);
    for (const finding of file.findings) lines.push(`       ${finding.code} ${finding.message}`);
  }
  for (const skip of report.skipped) lines.push(`SKIP   ${skip.path}: ${skip.reason}`);
  const verdict = renderScanVerdict(report);
  lines.push(report.ok ? verdict : paint.fail(verdict));
  return `${lines.join('\n')}\n`;
}

export function renderScanVerdict(report: ScanReport): string {
  const { files, bytes, unsafe, skipped } = report.summary;
  const tail = `${files} file${files === 1 ? '' : 's'}, ${formatBytes(bytes)}`;
  if (report.ok) return `OK: nothing unsafe in ${tail}`;
  return `FAILED: ${unsafe} unsafe or invalid file${unsafe === 1 ? '' : 's'}${skipped > 0 ? `, ${skipped} not scanned` : ''} in ${tail}`;
}
