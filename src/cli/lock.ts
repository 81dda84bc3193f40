import type { Command } from 'commander';
import { lockArtifacts } from '../lock/index.js';
import type { ArtifactKind } from '../lockfile/types.js';
import { formatBytes, startProgress, type ProgressLine } from '../report/index.js';
import { log, type CliContext } from './context.js';
import { collect, DEFAULT_LOCKFILE, parseJobs, parseKind } from './options.js';

interface LockFlags {
  kind?: ArtifactKind;
  name?: string;
  lockfile: string;
  dependsOn?: string[];
  ignore?: string[];
  allowSymlinks?: boolean;
  jobs?: number;
}

export function registerLock(program: Command, context: CliContext): void {
  program
    .command('lock')
    .description('record artifacts (a folder or a file) in the lockfile: every file hashed, format facts read')
    .argument('<source...>', 'folder or file to lock')
    .option('--kind <kind>', 'model | adapter | tokenizer | dataset (inferred from the files when not given)', parseKind)
    .option('--name <name>', 'artifact name (default: the base name of the source)')
    .option('--lockfile <file>', 'lockfile to update (created when missing)', DEFAULT_LOCKFILE)
    .option('--depends-on <name>', "a locked artifact this one needs, e.g. an adapter's base model (repeatable)", collect)
    .option('--ignore <glob>', 'also ignore files matching this glob; recorded so verify ignores the same (repeatable)', collect)
    .option('--allow-symlinks', 'follow symlinks that stay inside the artifact (refused by default)')
    .option('--jobs <n>', 'hashing threads (default: the number of cores)', parseJobs)
    .action(async (sources: string[], flags: LockFlags) => {
      let progress: ProgressLine | undefined;
      try {
        const result = await lockArtifacts(sources, {
          ...flags,
          onWait: (message) => log(context, message),
          onHashing: (source, total) => (progress = startProgress(context.stderr, 'hashing', source, total)),
        });
        progress?.stop();
        for (const { name, artifact } of result.locked) {
          const bytes = artifact.files.reduce((sum, file) => sum + file.size, 0);
          context.stdout.write(`locked ${name} (${artifact.kind}): ${artifact.files.length} file${artifact.files.length === 1 ? '' : 's'}, ${formatBytes(bytes)}, digest ${artifact.digest}\n`);
        }
      } finally {
        progress?.stop();
      }
    });
}
