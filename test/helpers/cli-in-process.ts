import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/context.js';
import type { CliResult } from './cli.js';

/** What a command writes to one of its streams, as text. */
class Capture extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/**
 * The CLI's own entry in this process — parsing, the command, the only catch, the exit code — for
 * tests whose subject is a command's verdict rather than the process around it: no Node start-up
 * per call (bin/aisc.js itself has tests of its own). Paths must be absolute: the working folder is
 * this process's.
 */
export async function runAiscInProcess(args: readonly string[]): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  // main writes lines to stderr and reads nothing else of a WriteStream (isTTY is undefined: no progress line).
  const context: CliContext = { stdout, stderr: stderr as unknown as NodeJS.WriteStream, exitCode: 0 };
  const status = await main(['node', 'aisc', ...args], context);
  return { status, stdout: stdout.text, stderr: stderr.text };
}
