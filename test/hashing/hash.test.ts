import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashFile, type ReadBuffers } from '../../src/hashing/hash-file.js';
import { hashFiles, HashPool } from '../../src/hashing/pool.js';
import type { HashJob } from '../../src/hashing/types.js';
import { makeTempDir } from '../helpers/temp.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function setup(): { root: string; job: (rel: string, extra?: Partial<HashJob>) => HashJob } {
  const root = realpathSync(makeTempDir());
  return { root, job: (rel, extra = {}) => ({ path: rel, root, followSymlinks: false, ...extra }) };
}

describe('hashFiles', () => {
  it('equals a one-shot SHA-256 for sizes around every buffer boundary', async () => {
    const { root, job } = setup();
    const MiB = 1024 * 1024;
    const sizes = [0, 1, 4095, 4096, MiB - 1, MiB, 4 * MiB + 1, 17 * MiB + 3];
    const contents = sizes.map((size) => randomBytes(size));
    contents.forEach((data, i) => writeFileSync(join(root, `f${i}`), data));
    const results = await hashFiles(sizes.map((size, i) => job(`f${i}`, { expectedSize: size })), { jobs: 2 });
    expect(results).toEqual(contents.map((data) => ({ ok: true, sha256: sha256(data), size: data.length })));
  });

  it('equals sha256sum on many small files, in the order asked', async () => {
    const { root, job } = setup();
    const names = Array.from({ length: 700 }, (_, i) => `small-${i}.txt`);
    names.forEach((name, i) => writeFileSync(join(root, name), `file ${i}\n`.repeat(i % 7)));
    const results = await hashFiles(names.map((name) => job(name)));
    const expected = execFileSync('sha256sum', names, { cwd: root, encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => line.slice(0, 64));
    expect(results.map((r) => (r.ok ? r.sha256 : r.code))).toEqual(expected);
  });

  it('hashes one big file with read-ahead as a spare core allows, to the same digest', async () => {
    const { root, job } = setup();
    const data = randomBytes(40 * 1024 * 1024);
    writeFileSync(join(root, 'big'), data);
    const pool = new HashPool({ jobs: 2 });
    try {
      expect(await pool.hash([job('big', { expectedSize: data.length })])).toEqual([{ ok: true, sha256: sha256(data), size: data.length }]);
      expect(pool.bytesDone()).toBe(data.length);
    } finally {
      await pool.close();
    }
  });

  it('reports each file that cannot be trusted, without hashing it', async () => {
    const { root, job } = setup();
    writeFileSync(join(root, 'file'), 'content');
    mkdirSync(join(root, 'folder'));
    symlinkSync('/etc/hostname', join(root, 'link-out'));
    symlinkSync('file', join(root, 'link-in'));
    mkdirSync(join(root, 'real'));
    writeFileSync(join(root, 'real', 'inner'), 'x');
    symlinkSync('real', join(root, 'dirlink'));
    execFileSync('mkfifo', [join(root, 'fifo')]);
    const results = await hashFiles([
      job('missing'),
      job('folder'),
      job('link-out'),
      job('link-in'),
      job('dirlink/inner'),
      job('fifo'),
      job('file', { expectedSize: 3 }),
      job('link-out', { followSymlinks: true }),
      job('link-in', { followSymlinks: true }),
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual([
      'MISSING_FILE',
      'NOT_A_FILE',
      'SYMLINK_REFUSED',
      'SYMLINK_REFUSED',
      'SYMLINK_REFUSED',
      'NOT_A_FILE',
      'SIZE_MISMATCH',
      'SYMLINK_OUTSIDE_ROOT',
      'ok',
    ]);
  });
});

describe('hashFile', () => {
  const buffers: ReadBuffers = [Buffer.alloc(64 * 1024), Buffer.alloc(64 * 1024)];

  it.each([false, true])('reports a file that grows while it is read (overlap %s)', async (overlap) => {
    const { root, job } = setup();
    writeFileSync(join(root, 'growing'), randomBytes(32 * 1024 * 1024));
    let appended = false;
    const result = await hashFile(job('growing'), buffers, () => {
      if (!appended) appendFileSync(join(root, 'growing'), 'more');
      appended = true;
    }, overlap);
    expect(result).toMatchObject({ ok: false, code: 'FILE_CHANGED', message: expect.stringMatching(/^changed while it was read: its size \(33554432 bytes at open, 33554436 at close\)/) as unknown });
  });

  it('reports a file rewritten in place at the same size', async () => {
    const { root, job } = setup();
    const path = join(root, 'same-size');
    writeFileSync(path, randomBytes(1024 * 1024));
    let rewritten = false;
    const result = await hashFile(job('same-size'), buffers, () => {
      if (!rewritten) writeFileSync(path, randomBytes(1024 * 1024));
      rewritten = true;
    });
    // Same size at open and close: the times say what moved.
    expect(result).toMatchObject({ ok: false, code: 'FILE_CHANGED', message: expect.stringMatching(/^changed while it was read: (its modification time|its change time)/) as unknown });
    expect((result as { message: string }).message).not.toMatch(/its size/);
  });
});
