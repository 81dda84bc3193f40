import type { Command } from 'commander';
import { decodeLockfile, readLockfileBytes } from '../lockfile/index.js';
import { getVerifyPlacement, VERIFY_FORMATS, VERIFY_RENDERERS, type VerifyFormat } from '../report/index.js';
import { writeReport, type CliContext } from './context.js';
import { parseChoice } from './options.js';

export function registerReport(program: Command, context: CliContext): void {
  const report = program.command('report').description('work with verify reports');
  report
    .command('merge')
    .description('one verdict from the --format json reports of every `verify --shard I/N` part: exit 0 all verified, 1 a finding, 2 reports of another lockfile or a part missing')
    .argument('<report...>', 'the parts\' reports (verify --shard I/N --format json)')
    .option('--format <format>', VERIFY_FORMATS.join(' | '), parseChoice(VERIFY_FORMATS), 'human')
    .option('--sarif <file>', 'also write the findings as SARIF 2.1.0 to FILE')
    .action(async (paths: string[], flags: { format: VerifyFormat; sarif?: string }) => {
      const { mergeReports, readPartReport } = await import('../verify/merge.js');
      const merged = mergeReports(await Promise.all(paths.map((path) => readPartReport(path))));
      const sources = { lockfile: decodeLockfile(await readLockfileBytes(merged.lockfile), merged.lockfile), packageLocks: new Map<string, string>() };
      await writeReport(context, VERIFY_RENDERERS, merged, flags, () => getVerifyPlacement(merged, sources));
      context.exitCode = merged.ok ? 0 : 1;
    });
  report.commands.forEach((command) => command.exitOverride().configureOutput({ outputError: () => undefined }));
}
