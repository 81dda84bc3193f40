import type { ScanReport } from '../scan/index.js';
import { formatBytes } from './format.js';

export const SCAN_FORMATS = ['human', 'json'] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

/** One line per file (its format, and each finding under it); a verdict last. JSON: the report as is. */
export function renderScanReport(report: ScanReport, format: ScanFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  const lines: string[] = [];
  for (const file of report.files) {
    const imports = file.imports.length > 0 ? ` imports ${file.imports.join(', ')}` : '';
    lines.push(`${file.findings.length > 0 ? 'UNSAFE' : 'ok    '} ${file.path}: ${file.format}${imports}`);
    for (const finding of file.findings) lines.push(`       ${finding.code} ${finding.message}`);
  }
  for (const skip of report.skipped) lines.push(`SKIP   ${skip.path}: ${skip.reason}`);
  const { files, bytes, unsafe, skipped } = report.summary;
  const tail = `${files} file${files === 1 ? '' : 's'}, ${formatBytes(bytes)}`;
  if (report.ok) lines.push(`OK: nothing unsafe in ${tail}`);
  else lines.push(`FAILED: ${unsafe} unsafe or invalid file${unsafe === 1 ? '' : 's'}${skipped > 0 ? `, ${skipped} not scanned` : ''} in ${tail}`);
  return `${lines.join('\n')}\n`;
}
