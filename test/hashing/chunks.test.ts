import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeSafetensors } from '../../examples/make-example.js';
import { ContentInspector } from '../../src/formats/inspect.js';
import { ChunkDigests } from '../../src/hashing/chunk-digests.js';
import { hashFile, type ReadBuffers } from '../../src/hashing/hash-file.js';
import { HashPool } from '../../src/hashing/pool.js';
import { SpreadJoin } from '../../src/hashing/spread.js';
import type { AnyHashResult, HashJob } from '../../src/hashing/types.js';
import { getChunkCount, getChunkSize, getChunksProblem, wantsChunks } from '../../src/lockfile/chunks.js';
import { getChunkMismatch } from '../../src/verify/chunk-mismatch.js';
import { writeZip } from '../helpers/zips.js';
import { makeTempDir } from '../helpers/temp.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const chunksOf = (data: Buffer, size: number): string[] => Array.from({ length: Math.ceil(data.length / size) }, (_, k) => sha256(data.subarray(k * size, (k + 1) * size)));

function setup(): { root: string; job: (rel: string, extra?: Partial<HashJob>) => HashJob } {
  const root = realpathSync(makeTempDir());
  return { root, job: (rel, extra = {}) => ({ path: rel, root, followSymlinks: false, ...extra }) };
}

describe('the chunk plan', () => {
  it('covers a file exactly: ceil(size / chunk) digests, at least two, of a power-of-two chunk from 1 MiB to 4 GiB', () => {
    expect(getChunkCount(3 * MiB + 1, MiB)).toBe(4);
    expect(getChunksProblem(3 * MiB + 1, { size: MiB, sha256: ['a', 'b', 'c', 'd'] })).toBeUndefined();
    expect(getChunksProblem(3 * MiB + 1, { size: MiB, sha256: ['a', 'b', 'c'] })).toBe('expected 4 digests of 1048576-byte chunks to cover 3145729 bytes, got 3');
    expect(getChunksProblem(MiB, { size: MiB, sha256: ['a'] })).toBe('expected no chunk list for a file of at most one chunk, got 1');
    expect(getChunksProblem(0, { size: MiB, sha256: [] })).toBe('expected no chunk list for a file of at most one chunk, got 0');
    for (const size of [0, 4096, MiB - 1, MiB + 1, 3 * MiB, 8192 * MiB]) expect(getChunksProblem(16 * MiB, { size, sha256: [] })).toMatch(/^expected a chunk size that is a power of two from 1048576 to 4294967296 bytes, got /);
    // Only files of two whole chunks or more get them.
    expect([wantsChunks(2 * MiB - 1, MiB), wantsChunks(2 * MiB, MiB)]).toEqual([false, true]);
  });

  it('AISC_CHUNK_BYTES: a power of two from 1 MiB to 4 GiB, else USAGE; 64 MiB by default', () => {
    expect(getChunkSize({})).toBe(64 * MiB);
    expect(getChunkSize({ AISC_CHUNK_BYTES: String(MiB) })).toBe(MiB);
    for (const bad of ['0', '1000', String(3 * MiB), '8589934592', '1e6', ' 1048576', '-1048576']) expect(() => getChunkSize({ AISC_CHUNK_BYTES: bad })).toThrow(expect.objectContaining({ code: 'USAGE' }) as Error);
  });

  it('a mismatch is said as byte ranges, neighbouring chunks joined, the first three shown', () => {
    const locked = { size: MiB, sha256: Array.from({ length: 10 }, (_, k) => String(k).repeat(64)) };
    const actual = [...locked.sha256];
    expect(getChunkMismatch(10 * MiB - 3, locked, actual)).toBeUndefined();
    actual[9] = 'x';
    expect(getChunkMismatch(10 * MiB - 3, locked, actual)).toEqual({ message: `bytes ${9 * MiB}–${10 * MiB - 4} differ (chunk 10 of 10)`, expected: locked.sha256[9], actual: 'x' });
    actual[0] = actual[1] = actual[4] = actual[7] = 'y';
    expect(getChunkMismatch(10 * MiB - 3, locked, actual)?.message).toBe(`bytes 0–${2 * MiB - 1}, ${4 * MiB}–${5 * MiB - 1}, ${7 * MiB}–${8 * MiB - 1} and 1 more range differ (5 of 10 chunks)`);
  });
});

describe('ChunkDigests', () => {
  it('gives each chunk\'s SHA-256 however the stream is sliced (the same buffers as the whole-file hash)', () => {
    const data = randomBytes(5 * 4096 + 17);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: data.length }), { maxLength: 12 }), fc.constantFrom(4096, 8192, 65536), (cuts, size) => {
        const digests = new ChunkDigests(size);
        const points = [0, ...[...cuts].sort((a, b) => a - b), data.length];
        for (let i = 1; i < points.length; i++) digests.update(data.subarray(points[i - 1], points[i]));
        expect(digests.end()).toEqual(chunksOf(data, size));
      }),
    );
  });
});

describe('hashFile with chunks', () => {
  const buffers: ReadBuffers = [Buffer.alloc(256 * 1024), Buffer.alloc(256 * 1024)];

  it('lock: the whole digest and every chunk digest from one pass; verify: the chunks alone, no whole digest', async () => {
    const { root, job } = setup();
    const data = randomBytes(3 * MiB + 5);
    writeFileSync(join(root, 'w'), data);
    expect(await hashFile(job('w', { chunks: { size: MiB, whole: true } }), buffers, () => undefined)).toEqual({ ok: true, sha256: sha256(data), chunks: chunksOf(data, MiB), size: data.length });
    const alone = await hashFile(job('w', { chunks: { size: MiB, whole: false } }), buffers, () => undefined);
    expect(alone).toEqual({ ok: true, chunks: chunksOf(data, MiB), size: data.length });
    expect('sha256' in alone).toBe(false);
  });

  it('one range of a spread file: its chunk, the file\'s identity and size; an unsettled start is read on for the inspector alone', async () => {
    const { root, job } = setup();
    // A zip is judged by every member's bytes: its start does not settle it.
    const zip = writeZip([{ name: 'a.bin', data: randomBytes(MiB) }, { name: 'b.bin', data: randomBytes(2 * MiB) }]);
    writeFileSync(join(root, 'z.zip'), zip);
    const whole = await hashFile(job('z.zip', { inspect: true }), buffers, () => undefined);
    let counted = 0;
    const first = await hashFile(job('z.zip', { inspect: true, expectedSize: zip.length, range: { start: 0, end: MiB }, chunks: { size: MiB, whole: false } }), buffers, (n) => (counted += n));
    expect(first).toMatchObject({ ok: true, chunks: [sha256(zip.subarray(0, MiB))], size: zip.length, identity: expect.objectContaining({ size: zip.length }) as unknown });
    // Judged as a whole-file read judges it; only the chunk's own bytes count as hashed.
    expect(first.ok && [first.format, first.inspection]).toEqual(whole.ok && [whole.format, whole.inspection]);
    expect(counted).toBe(MiB);
    const second = await hashFile(job('z.zip', { inspect: false, expectedSize: zip.length, range: { start: MiB, end: 2 * MiB }, chunks: { size: MiB, whole: false } }), buffers, () => undefined);
    expect(second).toEqual({ ok: true, chunks: [sha256(zip.subarray(MiB, 2 * MiB))], size: zip.length, identity: first.ok ? first.identity : undefined });
  });

  it('a range whose file grows while it is read is FILE_CHANGED', async () => {
    const { root, job } = setup();
    writeFileSync(join(root, 'g'), randomBytes(4 * MiB));
    let grown = false;
    const result = await hashFile(job('g', { expectedSize: 4 * MiB, range: { start: MiB, end: 2 * MiB }, chunks: { size: MiB, whole: false } }), buffers, () => {
      if (!grown) appendFileSync(join(root, 'g'), 'x');
      grown = true;
    });
    expect(result).toMatchObject({ ok: false, code: 'FILE_CHANGED' });
  });
});

describe('the inspector settles on a file\'s first bytes only when no later byte can change its verdict', () => {
  it('a safetensors file once its header is read; a zip never', () => {
    const weights = makeSafetensors({ w: { dtype: 'F32', shape: [256, 256] } }, 1);
    const safetensors = new ContentInspector(weights.length, 'model.safetensors');
    safetensors.feed(weights.subarray(0, 4096));
    expect(safetensors.settled).toBe(true);
    // Judged at the file's size, as a reader of all of it would.
    const full = new ContentInspector(weights.length, 'model.safetensors');
    full.feed(weights);
    expect(safetensors.end(weights.length)).toEqual(full.end());
    const zip = writeZip([{ name: 'data.pkl', data: Buffer.alloc(10_000, 1) }]);
    const inspector = new ContentInspector(zip.length, 'x.zip');
    inspector.feed(zip.subarray(0, 8192));
    expect(inspector.settled).toBe(false);
  });
});

describe('the pool spreads a file\'s chunks over its threads and joins them', () => {
  it('into the chunk digests of the whole file, its first chunk inspected; a wrong size fails before any chunk is hashed', async () => {
    const { job } = setup();
    const root = job('').root;
    const data = randomBytes(9 * MiB + 3);
    writeFileSync(join(root, 'w'), data);
    const pool = new HashPool({ jobs: 2 });
    try {
      const spread = { chunks: { size: MiB, whole: false, spread: true }, inspect: true };
      const seen: AnyHashResult[] = [];
      await pool.hashEachChunked([job('w', { expectedSize: data.length, ...spread, identify: true })], (_, result) => seen.push(result));
      expect(seen).toEqual([{ ok: true, chunks: chunksOf(data, MiB), size: data.length, format: 'unknown', identity: expect.objectContaining({ size: data.length }) as unknown }]);
      expect(pool.bytesDone()).toBe(data.length);
      seen.length = 0;
      await pool.hashEachChunked([job('w', { expectedSize: data.length + 1, ...spread })], (_, result) => seen.push(result));
      expect(seen).toEqual([expect.objectContaining({ ok: false, code: 'SIZE_MISMATCH' })]);
      // hashEach promises every result a whole-file digest: it refuses jobs for chunks alone.
      await expect(pool.hashEach([job('w', { expectedSize: data.length, ...spread })], () => undefined)).rejects.toMatchObject({ code: 'INTERNAL' });
    } finally {
      await pool.close();
    }
  });

  it('lock of one big file: a worker reads and hashes it whole, the main thread hashes its chunks from the same buffers, lent', async () => {
    const { job } = setup();
    const root = job('').root;
    const data = randomBytes(9 * MiB + 7);
    writeFileSync(join(root, 'w'), data);
    const pool = new HashPool({ jobs: 2 });
    try {
      for (let round = 0; round < 2; round++) {
        // Twice: the lent buffers came back and are read into again.
        expect(await pool.hash([job('w', { expectedSize: data.length, inspect: true, chunks: { size: MiB, whole: true } })])).toEqual([{ ok: true, sha256: sha256(data), chunks: chunksOf(data, MiB), size: data.length, format: 'unknown' }]);
      }
      expect(pool.bytesDone()).toBe(2 * data.length);
    } finally {
      await pool.close();
    }
  });

  it('chunks read from two versions of a file (another inode or other times) are FILE_CHANGED, never joined', () => {
    const job: HashJob = { path: 'w', root: '/r', followSymlinks: false, expectedSize: 2 * MiB, chunks: { size: MiB, whole: false, spread: true } };
    const identity = { dev: '1', ino: '2', size: 2 * MiB, mtimeNs: '3', ctimeNs: '4' };
    const join2 = (second: typeof identity): AnyHashResult | undefined => {
      const spread = new SpreadJoin(job, 2);
      spread.add(0, { ok: true, chunks: ['a'], size: 2 * MiB, identity });
      return spread.add(1, { ok: true, chunks: ['b'], size: 2 * MiB, identity: second });
    };
    expect(join2(identity)).toEqual({ ok: true, chunks: ['a', 'b'], size: 2 * MiB });
    expect(join2({ ...identity, ino: '9' })).toMatchObject({ ok: false, code: 'FILE_CHANGED' });
    expect(join2({ ...identity, ctimeNs: '5' })).toMatchObject({ ok: false, code: 'FILE_CHANGED' });
  });
});
