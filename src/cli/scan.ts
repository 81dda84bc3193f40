import { InvalidArgumentError, type Command } from 'commander';
import { startProgress, type ProgressLine } from '../report/index.js';
import { renderScanReport, SCAN_FORMATS, type ScanFormat } from '../report/scan-report.js';
import type { CliContext } from './context.js';
import { parseJobs } from './options.js';

export function registerScan(program: Command, context: CliContext): void {
  program
    .command('scan')
    .description('tell what each file is from its bytes and judge pickles by their imports, never loading them; exit 0 clean, 1 unsafe or invalid')
    .argument('<path...>', 'files or folders to scan')
    .option('--format <format>', SCAN_FORMATS.join(' | '), parseScanFormat, 'human')
    .option('--jobs <n>', 'reading threads (default: the number of cores)', parseJobs)
    .action(async (paths: string[], flags: { format: ScanFormat; jobs?: number }) => {
      const { scanPaths } = await import('../scan/index.js');
      let progress: ProgressLine | undefined;
      try {
        const report = await scanPaths(paths, { jobs: flags.jobs, onHashing: (source, total) => (progress = startProgress(context.stderr, 'scanning', source, total)) });
        progress?.stop();
        context.stdout.write(renderScanReport(report, flags.format));
        context.exitCode = report.ok ? 0 : 1;
      } finally {
        progress?.stop();
      }
    });
}

function parseScanFormat(value: string): ScanFormat {
  if (!(SCAN_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${SCAN_FORMATS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as ScanFormat;
}
