import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { AiscError } from '../errors.js';
import { writeFileAtomic } from '../lockfile/index.js';
import { log, type CliContext } from './context.js';
import { parseJobs } from './options.js';

interface Flags {
  key: string;
  output?: string;
  jobs?: number;
}

export function registerSign(program: Command, context: CliContext): void {
  program
    .command('sign')
    .description('sign a model folder (OpenSSF Model Signing v1.0 bundle) or a file (message-signature bundle) with a private key')
    .argument('<path>', 'model folder or file')
    .requiredOption('--key <pem>', 'private key, PEM: ECDSA P-256/P-384/P-521 or Ed25519')
    .option('--output <file>', 'where to write the bundle (default: <path>.sigstore.json beside it)')
    .option('--jobs <n>', 'hashing threads (default: the number of cores)', parseJobs)
    .action(async (path: string, flags: Flags) => {
      const { readPrivateKey, signFile, signModel } = await import('../signing/sign.js');
      const key = await readPrivateKey(flags.key);
      const stats = await stat(path).catch((error: unknown) => {
        throw new AiscError('SOURCE_NOT_FOUND', `${path}: no such file or folder`, { cause: error });
      });
      const output = flags.output ?? `${path.replace(/\/+$/, '')}.sigstore.json`;
      const bundle = stats.isDirectory() ? await signModel(path, key, { output, jobs: flags.jobs }) : await signFile(path, key);
      await writeFileAtomic(output, `${JSON.stringify(bundle, null, 2)}\n`);
      log(context, `wrote ${output}`);
    });
}
