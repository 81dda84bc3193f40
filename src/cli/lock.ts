import type { Command } from 'commander';
import { lockArtifacts } from '../lock/index.js';
import { describeSigner } from '../report/signature-report.js';
import type { SignerFlags } from '../signing/index.js';
import { addSignerOptions, toSignatureRequest } from './signer-options.js';
import type { ArtifactKind } from '../lockfile/types.js';
import { formatBytes, startProgress, type ProgressLine } from '../report/index.js';
import { log, type CliContext } from './context.js';
import { collect, DEFAULT_LOCKFILE, parseJobs, parseKind } from './options.js';

interface LockFlags extends SignerFlags {
  signature?: string;
  policy?: string;
  force?: boolean;
  kind?: ArtifactKind;
  name?: string;
  lockfile: string;
  dependsOn?: string[];
  ignore?: string[];
  allowSymlinks?: boolean;
  jobs?: number;
}

export function registerLock(program: Command, context: CliContext): void {
  const command = program
    .command('lock')
    .description('record artifacts (a folder or a file) in the lockfile: every file hashed, format facts read')
    .argument('<source...>', 'folder or file to lock')
    .option('--kind <kind>', 'model | adapter | tokenizer | dataset (inferred from the files when not given)', parseKind)
    .option('--name <name>', 'artifact name (default: the base name of the source)')
    .option('--lockfile <file>', 'lockfile to update (created when missing)', DEFAULT_LOCKFILE)
    .option('--policy <file>', 'policy whose rules the artifact must meet (default: aisc.policy.yaml when present)')
    .option('--force', 'record even what the policy forbids (verify will still fail on it)')
    .option('--depends-on <name>', "a locked artifact this one needs, e.g. an adapter's base model (repeatable)", collect)
    .option('--ignore <glob>', 'also ignore files matching this glob; recorded so verify ignores the same (repeatable)', collect)
    .option('--allow-symlinks', 'follow symlinks that stay inside the artifact (refused by default)')
    .option('--jobs <n>', 'hashing threads (default: the number of cores)', parseJobs)
    .option('--signature <bundle>', 'verify this Sigstore / OpenSSF Model Signing bundle over the artifact and pin its signer');
  addSignerOptions(command).action(async (sources: string[], flags: LockFlags) => {
    const signature = await toSignatureRequest(flags.signature, flags, '--signature');
    let progress: ProgressLine | undefined;
    try {
      const result = await lockArtifacts(sources, {
        ...flags,
        signature,
        policy: flags.policy,
        policyRequired: flags.policy !== undefined,
        onWait: (message) => log(context, message),
        onHashing: (source, total) => (progress = startProgress(context.stderr, 'hashing', source, total)),
      });
      progress?.stop();
      for (const { name, artifact } of result.locked) {
        const bytes = artifact.files.reduce((sum, file) => sum + file.size, 0);
        context.stdout.write(`locked ${name} (${artifact.kind}): ${artifact.files.length} file${artifact.files.length === 1 ? '' : 's'}, ${formatBytes(bytes)}, digest ${artifact.digest}\n`);
        if (artifact.signature) context.stdout.write(`  ${describeSigner(artifact.signature.signer)} (${artifact.signature.format}, bundle ${artifact.signature.bundle})\n`);
      }
    } finally {
      progress?.stop();
    }
  });
}
