import type { Command } from 'commander';
import { initProject, PRESETS, type Preset } from '../init.js';
import { log, type CliContext } from './context.js';
import { DEFAULT_LOCKFILE, DEFAULT_POLICY, parseChoice } from './options.js';

export function registerInit(program: Command, context: CliContext): void {
  program
    .command('init')
    .description('write aisc.policy.yaml (no rules yet) and an empty aisc.lock.json; existing files are kept')
    .option('--lockfile <file>', 'lockfile to create', DEFAULT_LOCKFILE)
    .option('--policy <file>', 'policy to create', DEFAULT_POLICY)
    .option('--preset <name>', 'start the policy from a preset: baseline | strict', parseChoice(PRESETS))
    .action(async (options: { lockfile: string; policy: string; preset?: Preset }) => {
      for (const { path, created } of await initProject(options)) {
        log(context, created ? `wrote ${path}` : `kept ${path} (already there)`);
      }
    });
}
