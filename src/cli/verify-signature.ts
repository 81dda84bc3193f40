import type { Command } from 'commander';
import { renderSignatureReport, type SignatureFormat } from '../report/signature-report.js';
import type { SignerFlags } from '../signing/index.js';
import type { CliContext } from './context.js';
import { parseChoice, parseJobs } from './options.js';
import { addSignerOptions } from './signer-options.js';

interface Flags extends SignerFlags {
  bundle: string;
  format: SignatureFormat;
  jobs?: number;
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
    .action(async (path: string, flags: Flags) => {
      const { toSignerPolicy, verifySignature } = await import('../signing/index.js');
      const report = await verifySignature(path, flags.bundle, await toSignerPolicy(flags), { jobs: flags.jobs });
      context.stdout.write(renderSignatureReport(report, flags.format));
      context.exitCode = report.ok ? 0 : 1;
    });
}
