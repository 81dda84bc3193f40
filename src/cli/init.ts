import type { Command } from 'commander';
import { initProject } from '../init.js';
import { log, type CliContext } from './context.js';
import { DEFAULT_LOCKFILE, DEFAULT_POLICY } from './options.js';

export function registerInit(program: Command, context: CliContext): void {
  program
    .command('init')
    .description('write aisc.policy.yaml (no rules yet) and an empty aisc.lock.json; existing files are kept')
    .option('--lockfile <file>', 'lockfile to create', DEFAULT_LOCKFILE)
    .option('--policy <file>', 'policy to create', DEFAULT_POLICY)
    .action(async (options: { lockfile: string; policy: string }) => {
      for (const { path, created } of await initProject(options)) {
        log(context, created ? `wrote ${path}` : `kept ${path} (already there)`);
      }
    });
}
