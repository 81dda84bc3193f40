import type { Command } from 'commander';
import { AiscError } from '../errors.js';
import { readLockfile } from '../lockfile/index.js';
import { renderDiff, type DiffFormat } from '../report/diff-report.js';
import type { CliContext } from './context.js';
import { DEFAULT_LOCKFILE, DEFAULT_POLICY, parseChoice } from './options.js';

interface Flags {
  base?: string;
  lockfile: string;
  policy: string;
  format: DiffFormat;
}

export function registerDiff(program: Command, context: CliContext): void {
  program
    .command('diff')
    .description('what changed between two lockfiles, in reviewer terms (and in the policy, with --base git:REF)')
    .argument('[base-lockfile]', 'the old lockfile')
    .argument('[new-lockfile]', 'the new lockfile')
    .option('--base <lockfile|git:ref>', 'compare the working tree against this base (lockfile and policy)')
    .option('--lockfile <file>', 'the new lockfile with --base', DEFAULT_LOCKFILE)
    .option('--policy <file>', 'the policy with --base', DEFAULT_POLICY)
    .option('--format <format>', 'human | markdown | json', parseChoice(['human', 'markdown', 'json']), 'human')
    .action(async (baseFile: string | undefined, newFile: string | undefined, flags: Flags) => {
      const { diffLockfiles } = await import('../diff/diff.js');
      if (flags.base !== undefined) {
        if (baseFile !== undefined) throw new AiscError('USAGE', 'give two lockfiles or --base, not both');
        const { loadChangeSet } = await import('../policy/change-set.js');
        const changeSet = await loadChangeSet({ base: flags.base, lockfile: flags.lockfile, policy: flags.policy });
        context.stdout.write(renderDiff(changeSet.diff, flags.format, { base: changeSet.base.where, next: flags.lockfile }));
        return;
      }
      if (baseFile === undefined || newFile === undefined) throw new AiscError('USAGE', 'expected <base-lockfile> <new-lockfile>, or --base LOCKFILE|git:REF');
      const diff = diffLockfiles(await readLockfile(baseFile), await readLockfile(newFile));
      context.stdout.write(renderDiff(diff, flags.format, { base: baseFile, next: newFile }));
    });
}
