import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFolder, makeFolderSync } from '../../src/io/make-folder.js';
import { AISC_BIN } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/temp.js';

describe.each([
  ['makeFolder', (path: string, mode?: number) => makeFolder(path, mode)],
  ['makeFolderSync', (path: string, mode?: number) => Promise.resolve().then(() => makeFolderSync(path, mode))],
] as const)('%s (mkdir -p)', (_name, make) => {
  it('makes the missing folders and returns the first one it made, as Node does', async () => {
    const dir = makeTempDir();
    expect(await make(join(dir, 'a', 'b', 'c'), 0o700)).toBe(join(dir, 'a'));
    expect(statSync(join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
    expect(statSync(join(dir, 'a', 'b')).mode & 0o777).toBe(0o700);
    expect(await make(join(dir, 'a', 'b', 'd'))).toBe(join(dir, 'a', 'b', 'd'));
    expect(await make(join(dir, 'a', 'b'))).toBeUndefined();
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      expect(await make(join('rel', 'x'))).toBe('rel');
    } finally {
      process.chdir(cwd);
    }
  });

  it("fails with Node's codes when a file is in the way", async () => {
    const dir = makeTempDir();
    writeFileSync(join(dir, 'file'), '');
    await expect(make(join(dir, 'file'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(make(join(dir, 'file', 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  // Node's recursive mkdir loops forever here (mkdir in /proc says ENOENT though /proc is there).
  it.runIf(existsSync('/proc/self'))('gives up where the filesystem cannot take a folder (/proc) instead of spinning', async () => {
    await expect(make('/proc/aisc-no-such-folder/below')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('a folder flag on /proc', () => {
  it.runIf(existsSync('/proc/self'))('verify --cache /proc/…: one line, exit 2, at once (it spun at full CPU)', () => {
    const dir = makeTempDir();
    writeFileSync(join(dir, 'aisc.lock.json'), '{"lockfileVersion": 1, "artifacts": {}}\n');
    // Killed after 20 s rather than hanging the suite if it spins again.
    const result = spawnSync(process.execPath, [AISC_BIN, 'verify', '--allow-empty', '--cache', '/proc/aisc-no-such-folder/cache'], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    expect(result.stderr).toBe('aisc: WRITE_FAILED --cache /proc/aisc-no-such-folder/cache: cannot create the folder (ENOENT)\n');
    expect(result.status).toBe(2);
  });
});
