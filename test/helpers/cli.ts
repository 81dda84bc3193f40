import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const AISC_BIN = fileURLToPath(new URL('../../bin/aisc.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (bin/aisc.js → dist/) in `cwd`, as a user would. */
export function runAisc(args: readonly string[], cwd: string): CliResult {
  const result = spawnSync(process.execPath, [AISC_BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, AISC_DEBUG: '' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function startAisc(args: readonly string[], cwd: string): ChildProcess {
  return spawn(process.execPath, [AISC_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every stderr line of a failed command is one coded line: `aisc: CODE message`. */
export function errorLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line !== '');
}
