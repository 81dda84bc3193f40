import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { AiscError } from '../errors.js';
import { writeFileAtomic } from '../io/index.js';
import { log, type CliContext } from './context.js';
import { collect, DEFAULT_LOCKFILE, parseJobs } from './options.js';

interface Flags {
  key?: string;
  certificate?: string;
  certificateChain?: string[];
  keyless?: boolean;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  output?: string;
  jobs?: number;
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
}

export function registerSign(program: Command, context: CliContext): void {
  program
    .command('sign')
    .description('sign a model folder (OpenSSF Model Signing v1.0 bundle) or a file (message-signature bundle) with a private key')
    .argument('<path>', 'model folder or file')
    .option('--key <pem>', 'private key, PEM: ECDSA P-256/P-384/P-521 or Ed25519')
    .option('--certificate <pem>', "with --key: the key's signing certificate; writes model_signing's certificate bundle (a file is signed as a one-file model)")
    .option('--certificate-chain <pem>', 'with --certificate: the certificates above it, leaf-side first (repeatable; a file may hold several)', collect)
    .option('--keyless', "sign through Sigstore (Fulcio + Rekor) with the ambient OIDC identity (SIGSTORE_ID_TOKEN or GitHub Actions')")
    .option('--fulcio-url <url>', 'keyless: the Fulcio instance (default: public good)')
    .option('--rekor-url <url>', 'keyless: the Rekor instance (default: public good)')
    .option('--tsa-url <url>', 'keyless: also timestamp with this RFC 3161 authority')
    .option('--output <file>', 'where to write the bundle (default: <path>.sigstore.json beside it)')
    .option('--jobs <n>', 'hashing threads (default: the number of cores)', parseJobs)
    .option('--ignore-paths <path>', 'a file or folder of the model to leave out, from the working folder (as model_signing; repeatable); signed as ignore_paths', collect)
    .option('--ignore-git-paths', 'leave git metadata (.git, .gitattributes, .github, .gitignore) out (default)')
    .option('--no-ignore-git-paths', 'sign git metadata as part of the model')
    .action(async (path: string, flags: Flags) => {
      if (flags.certificate && flags.keyless) throw new AiscError('USAGE', '--certificate does not go with --keyless (Sigstore issues the certificate); sign with --key and --certificate');
      if (flags.certificate && !flags.key) throw new AiscError('USAGE', '--certificate goes with --key (the private key of that certificate)');
      if (flags.certificateChain && !flags.certificate) throw new AiscError('USAGE', '--certificate-chain goes with --certificate');
      if (Boolean(flags.key) === Boolean(flags.keyless)) throw new AiscError('USAGE', 'expected one of --key or --keyless');
      if (!flags.keyless && (flags.fulcioUrl ?? flags.rekorUrl ?? flags.tsaUrl)) throw new AiscError('USAGE', '--fulcio-url, --rekor-url and --tsa-url go with --keyless');
      const stats = await stat(path).catch((error: unknown) => {
        throw new AiscError('SOURCE_NOT_FOUND', `${path}: no such file or folder`, { cause: error });
      });
      const output = flags.output ?? `${path.replace(/\/+$/, '')}.sigstore.json`;
      // Checked before signing: a keyless signature is not thrown away for want of a folder.
      await assertOutputFolder(output);
      const bundle = flags.key ? await signWithKey(path, flags.key, stats.isDirectory(), output, flags) : await signKeyless(path, stats.isDirectory(), output, flags);
      await writeFileAtomic(output, `${JSON.stringify(bundle, null, 2)}\n`, { what: 'bundle' });
      log(context, `wrote ${output}`);
      const inside = await findLockedArtifactContaining(output);
      if (inside) {
        log(context, `warning: ${output} is inside the locked artifact ${inside.name} (${DEFAULT_LOCKFILE}), so verify will report ${inside.relativePath} as an extra file; write the bundle elsewhere with --output, or lock ${inside.name} again`);
      }
    });
}

async function assertOutputFolder(output: string): Promise<void> {
  const folder = dirname(resolve(output));
  const stats = await stat(folder).catch(() => undefined);
  if (!stats) throw new AiscError('USAGE', `--output ${output}: the folder ${dirname(output)} does not exist (aisc creates no folders); create it first`);
  if (!stats.isDirectory()) throw new AiscError('USAGE', `--output ${output}: ${dirname(output)} is not a folder`);
  const existing = await stat(output).catch(() => undefined);
  if (existing?.isDirectory()) throw new AiscError('USAGE', `--output ${output}: is a folder; name the bundle file to write`);
}

/** Whether the bundle landed in an artifact of the lockfile here (when there is one). */
async function findLockedArtifactContaining(output: string): Promise<{ name: string; relativePath: string } | undefined> {
  const { readLockfileSnapshot } = await import('../lockfile/index.js');
  const snapshot = await readLockfileSnapshot(DEFAULT_LOCKFILE).catch(() => undefined);
  if (!snapshot) return undefined;
  const { findArtifactContaining } = await import('../lock/index.js');
  return findArtifactContaining(snapshot.lockfile, DEFAULT_LOCKFILE, output);
}

/**
 * With --certificate a file is signed as a one-file model (an OMS bundle), as model_signing
 * signs one: its certificate verifier reads nothing else, and aisc's verify-signature takes
 * an OMS bundle over a file too.
 */
async function signWithKey(path: string, keyPath: string, folder: boolean, output: string, flags: Flags): Promise<object> {
  const { readPrivateKey, readSigningChain, signFile, signModel } = await import('../signing/sign.js');
  const key = await readPrivateKey(keyPath);
  const chain = flags.certificate ? await readSigningChain(key, keyPath, flags.certificate, flags.certificateChain) : undefined;
  const options = { output, jobs: flags.jobs, ignorePaths: flags.ignorePaths, ignoreGitPaths: flags.ignoreGitPaths };
  return folder || chain ? signModel(path, key, options, chain) : signFile(path, key);
}

async function signKeyless(path: string, folder: boolean, output: string, flags: Flags): Promise<object> {
  const { signFileKeyless, signPayloadKeyless } = await import('../signing/keyless.js');
  const options = { fulcioUrl: flags.fulcioUrl, rekorUrl: flags.rekorUrl, tsaUrl: flags.tsaUrl };
  if (!folder) return signFileKeyless(path, options);
  const { toModelStatement } = await import('../signing/sign.js');
  return signPayloadKeyless(await toModelStatement(path, { output, jobs: flags.jobs, ignorePaths: flags.ignorePaths, ignoreGitPaths: flags.ignoreGitPaths }), options);
}
