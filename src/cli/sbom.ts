import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { decodeLockfile, parseLockfile, readLockfileBytes, toManifestReader } from '../lockfile/index.js';
import { SBOM_FORMATS, SBOM_RENDERERS, type SbomFormat } from '../report/index.js';
import { log, type CliContext } from './context.js';
import { DEFAULT_LOCKFILE, parseChoice, writeReportFile } from './options.js';

export function registerSbom(program: Command, context: CliContext): void {
  program
    .command('sbom')
    .description('the lockfile as a CycloneDX 1.6 ML-BOM: models, adapters, tokenizers, datasets and npm packages with their hashes, sources and signers (run verify first: this reads the lockfile, not the files)')
    .option('--lockfile <file>', 'the lockfile to describe', DEFAULT_LOCKFILE)
    .option('--format <format>', SBOM_FORMATS.join(' | '), parseChoice(SBOM_FORMATS), 'cyclonedx')
    .option('--output <file>', 'write the SBOM to FILE (whole or not at all) instead of stdout')
    .action(async (flags: { lockfile: string; format: SbomFormat; output?: string }) => {
      const bytes = await readLockfileBytes(flags.lockfile);
      const lockfile = await parseLockfile(decodeLockfile(bytes, flags.lockfile), flags.lockfile, toManifestReader(flags.lockfile));
      const text = SBOM_RENDERERS[flags.format](lockfile, { lockfile: flags.lockfile, sha256: createHash('sha256').update(bytes).digest('hex') });
      if (flags.output === undefined) {
        context.stdout.write(text);
        return;
      }
      await writeReportFile(flags.output, text, 'SBOM');
      log(context, `wrote ${flags.output}: ${lockfile.artifacts.size} artifact${lockfile.artifacts.size === 1 ? '' : 's'}`);
    });
}
