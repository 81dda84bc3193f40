import type { Command } from 'commander';
import { getVerifyPlacement, VERIFY_FORMATS, VERIFY_RENDERERS, type VerifyFormat } from '../report/index.js';
import { writeReport, type CliContext } from './context.js';
import { DEFAULT_LOCKFILE, parseChoice } from './options.js';

export function registerReport(program: Command, context: CliContext): void {
  const report = program.command('report').description('work with verify reports');
  report
    .command('merge')
    .description('one verdict from the --format json reports of every `verify --shard I/N` part: exit 0 all verified, 1 a finding, 2 reports of another lockfile, a part missing, or a part that does not own what the split of the lockfile gives it')
    .argument('<report...>', 'the parts\' reports (verify --shard I/N --format json)')
    .option('--lockfile <file>', 'the lockfile the parts verified: the split is recomputed from it', DEFAULT_LOCKFILE)
    .option('--format <format>', VERIFY_FORMATS.join(' | '), parseChoice(VERIFY_FORMATS), 'human')
    .option('--sarif <file>', 'also write the findings as SARIF 2.1.0 to FILE')
    .action(async (paths: string[], flags: { lockfile: string; format: VerifyFormat; sarif?: string }) => {
      const { mergeReportFiles } = await import('../verify/merge.js');
      const { report: merged, sources } = await mergeReportFiles(paths, flags.lockfile);
      await writeReport(context, VERIFY_RENDERERS, merged, flags, () => getVerifyPlacement(merged, sources));
      context.exitCode = merged.ok ? 0 : 1;
    });
  report.commands.forEach((command) => command.exitOverride().configureOutput({ outputError: () => undefined }));
}
