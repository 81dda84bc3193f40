import type { Command } from 'commander';
import { getScanPlacement, SCAN_FORMATS, SCAN_RENDERERS, type ProgressLine, type ScanFormat } from '../report/index.js';
import { showProgress, writeReport, type CliContext } from './context.js';
import { parseChoice, parseJobs } from './options.js';

export function registerScan(program: Command, context: CliContext): void {
  program
    .command('scan')
    .description('tell what each file is from its bytes and judge pickles by their imports, never loading them; exit 0 clean, 1 unsafe or invalid')
    .argument('<path...>', 'files or folders to scan')
    .option('--format <format>', SCAN_FORMATS.join(' | '), parseChoice(SCAN_FORMATS), 'human')
    .option('--sarif <file>', 'also write the findings as SARIF 2.1.0 to FILE')
    .option('--jobs <n>', 'reading threads (default: the number of cores)', parseJobs)
    .action(async (paths: string[], flags: { format: ScanFormat; sarif?: string; jobs?: number }) => {
      const { scanPaths } = await import('../scan/index.js');
      let progress: ProgressLine | undefined;
      try {
        const report = await scanPaths(paths, { jobs: flags.jobs, onHashing: (source, total) => (progress = showProgress(context, 'scanning', source, total)) });
        progress?.stop();
        await writeReport(context, SCAN_RENDERERS, report, flags, () => getScanPlacement(report));
        context.exitCode = report.ok ? 0 : 1;
      } finally {
        progress?.stop();
      }
    });
}
