/** What a command needs from the process: streams, and the exit code it settles on. */
export interface CliContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WriteStream;
  exitCode: number;
}

export function log(context: CliContext, message: string): void {
  context.stderr.write(`aisc: ${message}\n`);
}
