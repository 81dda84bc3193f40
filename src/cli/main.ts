import { Command, CommanderError } from 'commander';
import { exitCodeFor, isAiscError } from '../errors.js';
import { isSignatureFinding } from '../signing/errors.js';
import type { CliContext } from './context.js';
import { registerApprove } from './approve.js';
import { registerDiff } from './diff.js';
import { registerFetch } from './fetch.js';
import { registerInit } from './init.js';
import { registerLock } from './lock.js';
import { registerReport } from './report.js';
import { registerSbom } from './sbom.js';
import { registerScan } from './scan.js';
import { registerSign } from './sign.js';
import { registerVerify } from './verify.js';
import { registerVerifySignature } from './verify-signature.js';
import { VERSION } from '../version.js';

export { VERSION } from '../version.js';

export function buildProgram(context: CliContext): Command {
  const program = new Command('aisc')
    .description('supply-chain verifier for AI deployments: lock, verify, sign and approve models, adapters, tokenizers, datasets')
    .version(VERSION)
    .option('-q, --quiet', 'nothing on stderr but errors: no progress line, no notes')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
      outputError: () => undefined,
    });
  registerInit(program, context);
  registerLock(program, context);
  registerVerify(program, context);
  registerFetch(program, context);
  registerScan(program, context);
  registerSbom(program, context);
  registerReport(program, context);
  registerVerifySignature(program, context);
  registerSign(program, context);
  registerDiff(program, context);
  registerApprove(program, context);
  for (const command of program.commands) command.exitOverride().configureOutput({ outputError: () => undefined });
  program.hook('preAction', () => {
    if (program.opts<{ quiet?: boolean }>().quiet) context.quiet = true;
  });
  return program;
}

/**
 * The CLI's only catch: every failure becomes `aisc: CODE message` lines on stderr and an exit
 * code: 0 verified, 1 a finding, 2 unusable input or usage, 3 an internal error.
 */
export async function main(argv: readonly string[], context: CliContext = { stdout: process.stdout, stderr: process.stderr, exitCode: 0 }): Promise<number> {
  try {
    await buildProgram(context).parseAsync([...argv]);
    return context.exitCode;
  } catch (error) {
    return reportError(error, context);
  } finally {
    if (process.env.AISC_REPORT_RSS) context.stderr.write(`aisc: peak RSS ${process.resourceUsage().maxRSS} KiB\n`);
  }
}

function reportError(error: unknown, context: CliContext): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
    context.stderr.write(`aisc: USAGE ${error.message.replace(/^error: /, '')}\n`);
    return 2;
  }
  if (isSignatureFinding(error)) {
    // A signature that does not verify is a finding (exit 1), even where it stops a command.
    context.stderr.write(`aisc: ${error.code} ${error.message}\n`);
    return 1;
  }
  if (isAiscError(error)) {
    for (const line of [error.message, ...error.problems]) context.stderr.write(`aisc: ${error.code} ${line}\n`);
    return exitCodeFor(error.code);
  }
  const message = error instanceof Error ? error.message : String(error);
  context.stderr.write(`aisc: INTERNAL ${message.split('\n')[0] ?? ''}${process.env.AISC_DEBUG ? '' : ' (set AISC_DEBUG=1 for details)'}\n`);
  if (process.env.AISC_DEBUG && error instanceof Error) context.stderr.write(`${error.stack ?? ''}\n`);
  return 3;
}
