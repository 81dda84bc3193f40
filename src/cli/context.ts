/** What a command needs from the process: streams, and the exit code it settles on. */
export interface CliContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WriteStream;
  exitCode: number;
  /** The environment (HF_TOKEN, HF_HOME, proxies…); the process's when not given. */
  env?: NodeJS.ProcessEnv;
}

export function log(context: CliContext, message: string): void {
  context.stderr.write(`aisc: ${message}\n`);
}
