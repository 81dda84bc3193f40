import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const AISC_BIN = fileURLToPath(new URL('../../bin/aisc.js', import.meta.url));
const LOCK_WRITER = fileURLToPath(new URL('./lock-writer.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (bin/aisc.js → dist/) in `cwd`, as a user would. */
export function runAisc(args: readonly string[], cwd: string, env: Record<string, string> = {}, options: { timeoutMs?: number } = {}): CliResult {
  // A timeout (killed: status null) for a test of something that must not hang; spawnSync blocks vitest's own timeout.
  const result = spawnSync(process.execPath, [AISC_BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, AISC_DEBUG: '', ...env }, timeout: options.timeoutMs });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function startAisc(args: readonly string[], cwd: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [AISC_BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the CLI without blocking this process (a loopback server in it must keep answering). */
export function runAiscAsync(args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = startAisc(args, cwd, env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** One writer process adding artifact `name` to `lockfile` through aisc's updateLockfile (lock-writer.js). */
export function runLockWriter(lockfile: string, name: string): Promise<number | null> {
  return new Promise((resolve) => spawn(process.execPath, [LOCK_WRITER, lockfile, name], { stdio: 'ignore' }).on('close', resolve));
}

/** git in `cwd`, with an author so commits work on a machine with no git identity. */
export function runGit(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
}

/** Every stderr line of a failed command is one coded line: `aisc: CODE message`. */
export function errorLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line !== '');
}
