import { appendFileSync } from 'node:fs';
import type { ProgressSource } from '../hashing/index.js';
import { PLACED_FORMATS, startProgress, useColor, type Placement, type ProgressLine, type RenderContext, type Rendered } from '../report/index.js';
import { writeFileAtomic } from '../io/index.js';
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

type Renderer<R> = (report: R, context: RenderContext) => Rendered;

/**
 * A report in the --format asked for on stdout, its job summary appended to GITHUB_STEP_SUMMARY
 * when the format has one and that is set, and with --sarif the SARIF log to a file too (written
 * whole or not at all, rendered once when --format is sarif as well). Where findings point is
 * decided once, by `place`, and only when a format points into the repository.
 */
export async function writeReport<R, F extends string>(context: CliContext, renderers: Record<F, Renderer<R>> & { sarif: Renderer<R> }, report: R, flags: { format: F; sarif?: string }, place: () => Placement): Promise<void> {
  const placed = flags.sarif !== undefined || PLACED_FORMATS.has(flags.format);
  const render: RenderContext = { color: useColor(context.stdout, context.env), ...(placed ? { placement: place() } : {}) };
  const rendered = renderers[flags.format](report, render);
  if (flags.sarif !== undefined) {
    const sarif = (flags.format as string) === 'sarif' ? rendered.stdout : renderers.sarif(report, render).stdout;
    await writeFileAtomic(flags.sarif, sarif, { what: 'SARIF report' });
  }
  context.stdout.write(rendered.stdout);
  const summaryPath = (context.env ?? process.env).GITHUB_STEP_SUMMARY;
  if (rendered.summary === undefined || !summaryPath) return;
  try {
    appendFileSync(summaryPath, rendered.summary);
  } catch (error) {
    throw new AiscError('WRITE_FAILED', `GITHUB_STEP_SUMMARY ${summaryPath}: cannot append the job summary (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
}
