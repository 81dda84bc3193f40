import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAisc, runLockWriter, startAisc } from '../helpers/cli.js';
import { makeModel } from '../helpers/model.js';
import { makeTempDir } from '../helpers/temp.js';

function finished(child: ReturnType<typeof startAisc>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

describe('lockfile writes', () => {
  it('takes over a lock whose pid now belongs to another process (pid reuse)', async () => {
    const host = (await import('node:os')).hostname();
    const dir = makeTempDir();
    const lockfile = join(dir, 'aisc.lock.json');
    // Our own pid, alive, but recorded with a start time it never had.
    writeFileSync(`${lockfile}.lock`, `${process.pid}@${host} 1 0123456789abcdef\n`);
    expect(await runLockWriter(lockfile, 'a')).toBe(0);
    expect(readdirSync(dir)).toEqual(['aisc.lock.json']);
  });

  it('lets concurrent aisc lock runs all land', async () => {
    const dir = makeTempDir();
    const names = ['a', 'b', 'c', 'd'];
    names.forEach((name) => makeModel(dir, name));
    const results = await Promise.all(names.map((name) => finished(startAisc(['lock', name, '--kind', 'model'], dir))));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const lockfile = JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: Record<string, unknown> };
    expect(Object.keys(lockfile.artifacts)).toEqual(names);
    expect(existsSync(join(dir, 'aisc.lock.json.lock'))).toBe(false);
  });

  it('waits for a held lock with a message, and takes over one left by a dead process', async () => {
    const dir = makeTempDir();
    makeModel(dir);
    writeFileSync(join(dir, 'aisc.lock.json.lock'), `${process.pid}@${(await import('node:os')).hostname()}\n`);
    const child = startAisc(['lock', 'tiny', '--kind', 'model'], dir);
    const done = finished(child);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
    // Pretend the holder died: point the lock at a pid that cannot exist.
    writeFileSync(join(dir, 'aisc.lock.json.lock'), `999999999@${(await import('node:os')).hostname()}\n`);
    const { code, stderr } = await done;
    expect(code).toBe(0);
    expect(stderr).toMatch(/^aisc: waiting for aisc\.lock\.json\.lock \(held by \d+@/);
    expect(runAisc(['verify'], dir).status).toBe(0);
  });

  it('leaves the previous lockfile intact when aisc lock is killed', async () => {
    const dir = makeTempDir();
    makeModel(dir);
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    const before = readFileSync(join(dir, 'aisc.lock.json'), 'utf8');
    mkdirSync(join(dir, 'big'));
    const shard = randomBytes(64 * 1024 * 1024);
    for (let i = 0; i < 10; i++) writeFileSync(join(dir, 'big', `shard-${i}.bin`), shard);
    // One thread over 640 MiB takes about half a second: the kill lands while it hashes.
    const child = startAisc(['lock', 'big', '--kind', 'model', '--jobs', '1'], dir);
    const done = finished(child);
    await new Promise((resolve) => setTimeout(resolve, 250));
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    expect(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')).toBe(before);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(runAisc(['verify'], dir).status).toBe(0);
  });
});
