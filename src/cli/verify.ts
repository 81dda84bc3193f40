import type { Command } from 'commander';
import { getVerifyPlacement, VERIFY_FORMATS, VERIFY_RENDERERS, type ProgressLine, type VerifyFormat } from '../report/index.js';
import type { SignerFlags } from '../signing/index.js';
import { verifyLockfileWithSources } from '../verify/index.js';
import { parseShard, type Shard } from '../verify/shard.js';
import { addSignerOptions, toSignatureRequest } from './signer-options.js';
import { showProgress, writeReport, type CliContext } from './context.js';
import { collectArtifactPath, DEFAULT_LOCKFILE, DEFAULT_POLICY, parseChoice, parseJobs } from './options.js';

interface VerifyFlags extends SignerFlags {
  lockfileSignature?: string;
  policy?: string;
  base?: string;
  approvals?: string;
  lockfile: string;
  artifact?: Map<string, string>;
  format: VerifyFormat;
  sarif?: string;
  cache?: string;
  shard?: Shard;
  allowSymlinks?: boolean;
  jobs?: number;
  allowEmpty?: boolean;
}

export function registerVerify(program: Command, context: CliContext): void {
  const command = program
    .command('verify')
    .description('re-hash every locked artifact offline; exit 0 when all match, 1 naming every finding')
    .option('--lockfile <file>', 'lockfile to verify', DEFAULT_LOCKFILE)
    .option('--policy <file>', `policy to apply (default: ${DEFAULT_POLICY} when present)`)
    .option('--base <lockfile|git:ref>', 'judge the changes since this base by the base policy, and require its approvals')
    .option('--approvals <dir>', 'where approvals are (default: .aisc/approvals)')
    .option('--artifact <name=path>', 'verify artifact NAME at PATH instead of its locked source (repeatable)', collectArtifactPath)
    .option('--format <format>', `${VERIFY_FORMATS.join(' | ')} (github: annotations, and a job summary when GITHUB_STEP_SUMMARY is set)`, parseChoice(VERIFY_FORMATS), 'human')
    .option('--sarif <file>', 'also write the findings as SARIF 2.1.0 to FILE (for code scanning), whatever --format')
    .option('--cache <dir>', 'remember each file read (device, inode, size, mtime, ctime, SHA-256) in DIR, and do not read a file whose record still matches; DIR must be writable by this user alone')
    .option('--shard <i/n>', 'hash only part I of N of the files (size-balanced, the same on every machine); join the parts with aisc report merge', parseShard)
    .option('--allow-symlinks', 'follow symlinks that stay inside the artifact (refused by default)')
    .option('--jobs <n>', 'hashing threads (default: the number of cores)', parseJobs)
    .option('--allow-empty', 'pass a lockfile that pins nothing (by default that fails: NOTHING_LOCKED)')
    .option('--lockfile-signature <bundle>', 'first verify the lockfile itself against this bundle, for the signer named');
  addSignerOptions(command).action(async (flags: VerifyFlags) => {
    let progress: ProgressLine | undefined;
    const lockfileSignature = await toSignatureRequest(flags.lockfileSignature, flags, '--lockfile-signature');
    try {
      const { report, sources } = await verifyLockfileWithSources({
        lockfile: flags.lockfile,
        artifactPaths: flags.artifact,
        allowSymlinks: flags.allowSymlinks,
        jobs: flags.jobs,
        lockfileSignature,
        policy: flags.policy ?? DEFAULT_POLICY,
        policyRequired: flags.policy !== undefined,
        base: flags.base,
        approvalsDir: flags.approvals,
        trustedRoot: flags.trustedRoot,
        allowEmpty: flags.allowEmpty,
        cache: flags.cache,
        shard: flags.shard,
        onHashing: (source, total) => (progress = showProgress(context, 'verifying', source, total)),
      });
      progress?.stop();
      await writeReport(context, VERIFY_RENDERERS, report, flags, () => getVerifyPlacement(report, sources));
      context.exitCode = report.ok ? 0 : 1;
    } finally {
      progress?.stop();
    }
  });
}
