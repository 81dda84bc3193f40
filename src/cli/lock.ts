import type { Command } from 'commander';
import { AiscError } from '../errors.js';
import { isPackageLockPath } from '../npm/package-lock.js';
import { describeSigner } from '../report/signature-report.js';
import type { SignerFlags } from '../signing/index.js';
import { addSignerOptions, hasSignerFlags } from './signer-options.js';
import type { FileArtifactKind, FileEntry } from '../lockfile/types.js';
import { formatBytes, type ProgressLine } from '../report/index.js';
import { log, showProgress, type CliContext } from './context.js';
import { collect, DEFAULT_LOCKFILE, parseJobs, parseKind } from './options.js';
import type { SignatureRequest } from '../lock/publisher-signature.js';

interface LockFlags extends SignerFlags {
  signature?: string;
  policy?: string;
  force?: boolean;
  kind?: FileArtifactKind;
  name?: string;
  lockfile: string;
  dependsOn?: string[];
  ignore?: string[];
  include?: string[];
  exclude?: string[];
  path?: string;
  platform?: string;
  allowSymlinks?: boolean;
  jobs?: number;
  registry?: string;
}

export function registerLock(program: Command, context: CliContext): void {
  const command = program
    .command('lock')
    .description('record artifacts in the lockfile: every file hashed (or its Hub-listed SHA-256 taken), format facts read')
    .argument('<source...>', 'a folder or file, an HF cache snapshot folder, a .tar/.tar.gz, hf://[datasets/]org/name[@revision], oci://registry/repo[:tag|@sha256:digest], an https:// URL, or a package-lock.json (its npm packages)')
    .option('--kind <kind>', 'model | adapter | tokenizer | dataset (inferred from the files when not given)', parseKind)
    .option('--name <name>', 'artifact name (default: the base name of the source)')
    .option('--lockfile <file>', 'lockfile to update (created when missing)', DEFAULT_LOCKFILE)
    .option('--policy <file>', 'policy whose rules the artifact must meet (default: aisc.policy.yaml when present)')
    .option('--force', 'record even what the policy forbids (verify will still fail on it)')
    .option('--depends-on <name>', "a locked artifact this one needs, e.g. an adapter's base model (repeatable)", collect)
    .option('--ignore <glob>', 'also ignore files matching this glob; recorded so verify ignores the same (repeatable)', collect)
    .option('--include <glob>', 'hf:// sources: lock only the repo files matching this glob, as huggingface_hub allow_patterns (repeatable)', collect)
    .option('--exclude <glob>', 'hf:// sources: leave out the repo files matching this glob (repeatable)', collect)
    .option('--path <file>', 'https:// sources: keep the download at this path (written atomically; verify and fetch use it); oci:// sources: the folder fetch lays the files out in')
    .option('--platform <os/arch>', 'oci:// sources whose tag names an index: the manifest for this platform (linux/amd64, linux/arm64/v8)', parsePlatform)
    .option('--allow-symlinks', 'follow symlinks that stay inside the artifact (refused by default)')
    .option('--jobs <n>', 'hashing threads (default: the number of cores)', parseJobs)
    .option('--signature <bundle>', "the artifact's Sigstore / OpenSSF Model Signing bundle (default: model.sig at its root, FILE.sigstore.json beside a file): a path on disk, or inside an hf:// or oci:// artifact; verified and its signer pinned")
    .option('--registry <url>', 'npm registry for package-lock.json sources (default: npm_config_registry, .npmrc, then https://registry.npmjs.org/)');
  addSignerOptions(command).action(async (all: string[], flags: LockFlags) => {
    const packageLocks = all.filter(isPackageLockPath);
    const sources = all.filter((source) => !isPackageLockPath(source));
    if (packageLocks.length > 0) {
      const misplaced = (['kind', 'name', 'signature', 'dependsOn', 'ignore', 'include', 'exclude', 'path', 'platform'] as const).filter((flag) => flags[flag] !== undefined);
      if (misplaced.length > 0) throw new AiscError('USAGE', `--${misplaced.map((f) => f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join(', --')}: not for a package-lock.json; lock it in its own command`);
      if (!(await lockNpm(packageLocks, flags, context))) return;
      if (sources.length === 0) return;
    }
    // A publisher's bundle is looked for with every artifact; the signer flags say who must have signed it.
    const signature = await toLockSignatureRequest(flags);
    let progress: ProgressLine | undefined;
    // Loaded here: the sources (tar, undici) are not what other commands should pay to start.
    const { lockArtifacts } = await import('../lock/index.js');
    try {
      const result = await lockArtifacts(sources, {
        ...flags,
        signature,
        policy: flags.policy,
        policyRequired: flags.policy !== undefined,
        onWait: (message) => log(context, message),
        onHashing: (source, total) => (progress = showProgress(context, 'hashing', source, total)),
        env: context.env,
      });
      progress?.stop();
      for (const { name, artifact, from: origin } of result.locked) {
        const bytes = artifact.files.reduce((sum, file) => sum + file.size, 0);
        const from = origin === undefined ? '' : ` from ${origin}`;
        context.stdout.write(`locked ${name} (${artifact.kind})${from}: ${artifact.files.length} file${artifact.files.length === 1 ? '' : 's'}, ${formatBytes(bytes)}, digest ${artifact.digest}\n`);
        if (artifact.signature) {
          const found = artifact.signature.path === undefined ? '' : `, found as ${artifact.signature.path}`;
          context.stdout.write(`  ${describeSigner(artifact.signature.signer)} (${artifact.signature.format}${found}, bundle ${artifact.signature.bundle})\n`);
        }
        const unread = describeUninspected(artifact.files);
        if (unread) log(context, `${name}: ${unread}`);
      }
    } finally {
      progress?.stop();
    }
  });
}

/** Files whose content lock did not inspect (Hub LFS files), the first few by name; undefined when none. */
function describeUninspected(files: readonly FileEntry[]): string | undefined {
  const unread = files.filter((file) => file.inspected === false);
  if (unread.length === 0) return undefined;
  const shown = unread.slice(0, 5).map((file) => (file.format === 'safetensors' ? `${file.path} (header only)` : file.path));
  const more = unread.length > shown.length ? `, and ${unread.length - shown.length} more` : '';
  const count = unread.length === 1 ? "1 file's content was" : `${unread.length} files' content was`;
  const them = unread.length === 1 ? 'it' : 'them';
  return `${count} not inspected (hashed from the origin's listing without download: a Hub LFS oid, an OCI layer digest; marked "inspected": false): ${shown.join(', ')}${more}; aisc fetch inspects ${them} as ${them === 'it' ? 'it lands' : 'they land'}, aisc verify as it hashes ${them}`;
}

/** What lock is told of signatures: a bundle, and who must have signed (the signer flags; else the policy decides). */
async function toLockSignatureRequest(flags: LockFlags): Promise<SignatureRequest | undefined> {
  const signer = hasSignerFlags(flags);
  if (!signer && flags.signature === undefined && flags.trustedRoot === undefined) return undefined;
  const { toSignerPolicy } = await import('../signing/policy.js');
  return { bundle: flags.signature, ...(signer ? { policy: await toSignerPolicy(flags) } : {}), trustedRoot: flags.trustedRoot };
}

/** `os/arch[/variant]`, as docker's --platform. */
function parsePlatform(value: string): string {
  if (!/^[a-z0-9_.-]{1,64}\/[a-z0-9_.-]{1,64}(?:\/[a-z0-9_.-]{1,64})?$/.test(value)) throw new AiscError('USAGE', `--platform: expected os/arch[/variant] (linux/amd64), got ${JSON.stringify(value)}`);
  return value;
}

/** Each package-lock.json in turn; false when one had findings (printed, exit 1, nothing written for it). */
async function lockNpm(packageLocks: string[], flags: LockFlags, context: CliContext): Promise<boolean> {
  const { lockPackageLock } = await import('../npm/lock-npm.js');
  const { renderNpmFindings, renderNpmLocked } = await import('../report/npm-report.js');
  const { loadRules } = await import('../lock/rules.js');
  const rules = await loadRules({ policy: flags.policy, policyRequired: flags.policy !== undefined });
  const { evaluateRules } = await import('../policy/evaluate.js');
  for (const path of packageLocks) {
    const result = await lockPackageLock(path, {
      lockfile: flags.lockfile,
      registry: flags.registry,
      rules: { where: rules?.policy?.where ?? 'no policy file', evaluate: (lockfile) => evaluateRules(rules?.policy, lockfile) },
      force: flags.force,
      onWait: (message) => log(context, message),
    });
    if (!result.ok) {
      context.stdout.write(renderNpmFindings(result.path, result.findings));
      context.exitCode = 1;
      return false;
    }
    context.stdout.write(renderNpmLocked(result.packageLock, result.locked));
  }
  return true;
}
