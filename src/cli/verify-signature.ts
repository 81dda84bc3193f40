import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { AiscError } from '../errors.js';
import { renderSignatureReport, type SignatureFormat } from '../report/signature-report.js';
import { toSignerPolicy, verifyFileSignature, type SignerFlags } from '../signing/index.js';
import type { CliContext } from './context.js';
import { parseChoice } from './options.js';
import { addSignerOptions } from './signer-options.js';

interface Flags extends SignerFlags {
  bundle: string;
  format: SignatureFormat;
}

export function registerVerifySignature(program: Command, context: CliContext): void {
  addSignerOptions(
    program
      .command('verify-signature')
      .description('verify a Sigstore bundle over a file, offline: exit 0 when it verifies for the signer named, 1 when not')
      .argument('<path>', 'the signed file')
      .requiredOption('--bundle <file>', 'the Sigstore bundle (.sigstore.json)'),
  )
    .option('--format <format>', 'human | json', parseChoice(['human', 'json']), 'human')
    .action(async (path: string, flags: Flags) => {
      const policy = await toSignerPolicy(flags);
      const stats = await stat(path).catch((error: unknown) => {
        throw new AiscError('SOURCE_NOT_FOUND', `${path}: no such file or folder`, { cause: error });
      });
      if (!stats.isFile()) throw new AiscError('NOT_A_FILE', `${path}: expected a file`);
      const report = await verifyFileSignature(path, flags.bundle, policy);
      context.stdout.write(renderSignatureReport(report, flags.format));
      context.exitCode = report.ok ? 0 : 1;
    });
}
