import type { Command } from 'commander';
import { log, type CliContext } from './context.js';
import { DEFAULT_LOCKFILE, DEFAULT_POLICY } from './options.js';

interface Flags {
  base: string;
  reviewer: string;
  key?: string;
  keyless?: boolean;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  comment?: string;
  output?: string;
  lockfile: string;
  policy: string;
  approvals: string;
}

export function registerApprove(program: Command, context: CliContext): void {
  program
    .command('approve')
    .description('sign an approval of exactly the change since --base (lockfile, policy, change digest) as a reviewer')
    .requiredOption('--base <lockfile|git:ref>', 'the base the change is measured from')
    .requiredOption('--reviewer <name>', 'your reviewer name in the base policy')
    .option('--key <pem>', "your private key (the one the base policy registers for you)")
    .option('--keyless', 'sign through Sigstore with your OIDC identity')
    .option('--fulcio-url <url>', 'keyless: the Fulcio instance (default: public good)')
    .option('--rekor-url <url>', 'keyless: the Rekor instance (default: public good)')
    .option('--tsa-url <url>', 'keyless: also timestamp with this RFC 3161 authority')
    .option('--comment <text>', 'a note signed with the approval')
    .option('--output <file>', 'where to write it (default: a new file in the approvals folder)')
    .option('--lockfile <file>', 'the new lockfile', DEFAULT_LOCKFILE)
    .option('--policy <file>', 'the policy file', DEFAULT_POLICY)
    .option('--approvals <dir>', 'the approvals folder', '.aisc/approvals')
    .action(async (flags: Flags) => {
      const { approveChange } = await import('../policy/approve.js');
      const { path, changeSet } = await approveChange({
        ...flags,
        approvalsDir: flags.approvals,
        keyless: flags.keyless ? { fulcioUrl: flags.fulcioUrl, rekorUrl: flags.rekorUrl, tsaUrl: flags.tsaUrl } : undefined,
      });
      const count = changeSet.diff.changes.length;
      context.stdout.write(`approved ${count} change${count === 1 ? '' : 's'} since ${changeSet.base.where} as ${flags.reviewer} (change digest ${changeSet.diff.changeDigest})\n`);
      log(context, `wrote ${path}`);
    });
}
