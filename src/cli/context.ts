import { appendFileSync } from 'node:fs';
import type { ProgressSource } from '../hashing/index.js';
import { startProgress, type ProgressLine, type Rendered } from '../report/index.js';
import { AiscError, errnoCode } from '../errors.js';

/** What a command needs from the process: streams, and the exit code it settles on. */
export interface CliContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WriteStream;
  exitCode: number;
  /** The environment (HF_TOKEN, HF_HOME, proxies…); the process's when not given. */
  env?: NodeJS.ProcessEnv;
  /** --quiet: no progress and no notes on stderr (errors still print). */
  quiet?: boolean;
}

export function log(context: CliContext, message: string): void {
  if (!context.quiet) context.stderr.write(`aisc: ${message}\n`);
}

/** The progress line on stderr when it is a terminal, unless --quiet. */
export function showProgress(context: CliContext, label: string, source: ProgressSource, totalBytes: number): ProgressLine {
  return context.quiet ? { stop: () => undefined } : startProgress(context.stderr, label, source, totalBytes);
}

/** The report on stdout; a job summary appended to GITHUB_STEP_SUMMARY when the format has one and it is set. */
export function writeRendered(context: CliContext, rendered: Rendered): void {
  context.stdout.write(rendered.stdout);
  const summaryPath = (context.env ?? process.env).GITHUB_STEP_SUMMARY;
  if (rendered.summary === undefined || !summaryPath) return;
  try {
    appendFileSync(summaryPath, rendered.summary);
  } catch (error) {
    throw new AiscError('WRITE_FAILED', `GITHUB_STEP_SUMMARY ${summaryPath}: cannot append the job summary (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
}
