import type { Command } from 'commander';
import { renderSignatureReport, type SignatureFormat } from '../report/signature-report.js';
import type { SignerFlags } from '../signing/index.js';
import type { CliContext } from './context.js';
import { collect, parseChoice, parseJobs } from './options.js';
import { addSignerOptions } from './signer-options.js';

interface Flags extends SignerFlags {
  bundle: string;
  format: SignatureFormat;
  jobs?: number;
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
  allowSymlinks?: boolean;
  ignoreUnsignedFiles?: boolean;
}

export function registerVerifySignature(program: Command, context: CliContext): void {
  addSignerOptions(
    program
      .command('verify-signature')
      .description('verify a Sigstore bundle over a file, or an OpenSSF Model Signing bundle over a model folder, offline')
      .argument('<path>', 'the signed file or model folder')
      .requiredOption('--bundle <file>', 'the Sigstore bundle (.sigstore.json)'),
  )
    .option('--format <format>', 'human | json', parseChoice(['human', 'json']), 'human')
    .option('--jobs <n>', 'hashing threads for a model folder (default: the number of cores)', parseJobs)
    .option('--ignore-paths <path>', "a model folder's file or folder to leave out, from the working folder (as model_signing; repeatable). The signed ignore_paths are left out too", collect)
    .option('--ignore-git-paths', 'leave git metadata (.git, .gitattributes, .github, .gitignore) out of a model folder (default)')
    .option('--no-ignore-git-paths', 'check git metadata as part of the model')
    .option('--allow-symlinks', 'follow symlinks to files inside the model (refused by default)')
    .option('--ignore-unsigned-files', 'check only the signed files: files that were not signed are not extra')
    .action(async (path: string, flags: Flags) => {
      const { toSignerPolicy, verifySignature } = await import('../signing/index.js');
      const report = await verifySignature(path, flags.bundle, await toSignerPolicy(flags), {
        jobs: flags.jobs,
        ignorePaths: flags.ignorePaths,
        ignoreGitPaths: flags.ignoreGitPaths,
        allowSymlinks: flags.allowSymlinks,
        ignoreUnsignedFiles: flags.ignoreUnsignedFiles,
      });
      context.stdout.write(renderSignatureReport(report, flags.format));
      context.exitCode = report.ok ? 0 : 1;
    });
}
