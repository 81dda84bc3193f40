import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { errorLines, runAisc } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/temp.js';
import { chunkDigests, CHUNKED, lockedModel, MiB, readLock, sha256, SIZE, weightsOf, type LockedFile } from '../helpers/chunked-model.js';


function verifyJson(dir: string, args: string[] = []): { status: number | null; findings: { code: string; path?: string; message: string; expected?: string; actual?: string }[] } {
  const result = runAisc(['verify', '--format', 'json', ...args], dir);
  const report = JSON.parse(result.stdout) as { artifacts: { findings: { code: string; path?: string; message: string }[] }[] };
  return { status: result.status, findings: report.artifacts.flatMap((a) => a.findings) };
}

describe('chunk digests: lock records them, verify checks them on every thread', () => {
  it('lock records the digest of each chunk beside the whole-file one, from the same read; small files get none', () => {
    const { dir, weights } = lockedModel();
    const lock = readLock(dir);
    expect(weightsOf(lock)).toEqual({ path: 'weights.bin', size: SIZE, sha256: sha256(weights), format: 'unknown', chunks: { size: MiB, sha256: chunkDigests(weights) } });
    expect(lock.artifacts.model?.files.find((file) => file.path === 'config.json')?.chunks).toBeUndefined();
    expect(runAisc(['verify'], dir)).toMatchObject({ status: 0, stderr: '' });
  });

  it('a byte changed in chunk k is DIGEST_MISMATCH naming that chunk\'s byte range (exit 1)', () => {
    const { dir, weights, file } = lockedModel();
    const tampered = Buffer.from(weights);
    tampered[5 * MiB + 77] = (tampered[5 * MiB + 77] ?? 0) ^ 1;
    writeFileSync(file, tampered);
    const { status, findings } = verifyJson(dir);
    expect(status).toBe(1);
    expect(findings).toEqual([
      expect.objectContaining({ code: 'DIGEST_MISMATCH', path: 'weights.bin', message: `content differs from the lockfile: bytes ${5 * MiB}–${6 * MiB - 1} differ (chunk 6 of 13)`, expected: chunkDigests(weights)[5], actual: chunkDigests(tampered)[5] }),
    ]);
    // The last, short chunk, and two neighbours joined into one range.
    tampered[SIZE - 1] = (tampered[SIZE - 1] ?? 0) ^ 1;
    tampered[6 * MiB] = (tampered[6 * MiB] ?? 0) ^ 1;
    writeFileSync(file, tampered);
    expect(verifyJson(dir).findings.map((f) => f.message)).toEqual([`content differs from the lockfile: bytes ${5 * MiB}–${7 * MiB - 1}, ${12 * MiB}–${SIZE - 1} differ (3 of 13 chunks)`]);
  });

  it('a file of another size is SIZE_MISMATCH, not hashed', () => {
    const { dir, weights, file } = lockedModel();
    writeFileSync(file, Buffer.concat([weights, Buffer.from('x')]));
    expect(verifyJson(dir).findings).toEqual([expect.objectContaining({ code: 'SIZE_MISMATCH', path: 'weights.bin' })]);
  });

  it('a lockfile without chunk digests verifies as before (whole-file digest), and so does --cache with both', () => {
    const { dir, weights, file } = lockedModel({});
    expect(weightsOf(readLock(dir))?.chunks).toBeUndefined();
    expect(runAisc(['verify'], dir).status).toBe(0);
    mkdirSync(join(dir, 'cache'), { mode: 0o700 });
    expect(runAisc(['verify', '--cache', 'cache'], dir).status).toBe(0);
    // Re-locked with chunks: the cached whole digest still answers for the same unchanged file.
    expect(runAisc(['lock', 'model', '--kind', 'model'], dir, CHUNKED).status).toBe(0);
    const cached = runAisc(['verify', '--cache', 'cache', '--format', 'json'], dir);
    expect(cached.status).toBe(0);
    // A changed file is read again, by its chunks.
    const tampered = Buffer.from(weights);
    tampered[100] = (tampered[100] ?? 0) ^ 1;
    writeFileSync(file, tampered);
    expect(verifyJson(dir, ['--cache', 'cache']).findings).toEqual([expect.objectContaining({ code: 'DIGEST_MISMATCH', message: `content differs from the lockfile: bytes 0–${MiB - 1} differ (chunk 1 of 13)` })]);
  });

  it('--cache remembers a file verified by its chunks and answers for it unchanged', async () => {
    const { dir } = lockedModel();
    mkdirSync(join(dir, 'cache'), { mode: 0o700 });
    // The cache remembers only files not changed just before they were read (racy otherwise).
    await sleep(2100);
    expect(runAisc(['verify', '--cache', 'cache'], dir).status).toBe(0);
    const line = readFileSync(join(dir, 'cache', 'verify-cache.v1.jsonl'), 'utf8').split('\n').find((l) => l.includes('"weights.bin"'));
    // No whole-file digest (none was computed), the chunk size and digests instead.
    expect(JSON.parse(line ?? '[]')).toEqual(expect.arrayContaining([null, MiB]));
    const again = JSON.parse(runAisc(['verify', '--cache', 'cache', '--format', 'json'], dir).stdout) as { cache: { hits: number; misses: number } };
    expect(again.cache).toMatchObject({ hits: 2, misses: 0 });
  });
});

describe('verify --shard with chunk digests: the file stays the unit', () => {
  it('one part hashes the chunked file (all its chunks, on every thread of that part), the merge names the range', () => {
    const { dir, weights, file } = lockedModel();
    const part = (i: number): { shard: { files: number; bytes: number } } => {
      const result = runAisc(['verify', '--shard', `${i}/2`, '--format', 'json'], dir);
      writeFileSync(join(dir, `part${i}.json`), result.stdout);
      return JSON.parse(result.stdout) as { shard: { files: number; bytes: number } };
    };
    // The 12 MiB file is one unit: its part owns all its bytes, the other part the config.
    expect([1, 2].map((i) => part(i).shard)).toEqual([expect.objectContaining({ files: 1, bytes: SIZE }), expect.objectContaining({ files: 1 })]);
    expect(runAisc(['report', 'merge', 'part1.json', 'part2.json'], dir).status).toBe(0);
    const tampered = Buffer.from(weights);
    tampered[9 * MiB] = (tampered[9 * MiB] ?? 0) ^ 1;
    writeFileSync(file, tampered);
    [1, 2].forEach(part);
    const merged = runAisc(['report', 'merge', 'part1.json', 'part2.json', '--format', 'json'], dir);
    expect(merged.status).toBe(1);
    expect(merged.stdout).toContain(`bytes ${9 * MiB}–${10 * MiB - 1} differ (chunk 10 of 13)`);
  });
});

describe('a lockfile whose chunk digests cannot be those of the file', () => {
  it.each([
    ['one digest too few', (file: LockedFile) => ({ ...file.chunks, sha256: file.chunks?.sha256.slice(1) }), new RegExp(`/artifacts/model/files/1/chunks: expected 13 digests of 1048576-byte chunks to cover ${SIZE} bytes, got 12$`)],
    ['a chunk size that is not a power of two', (file: LockedFile) => ({ ...file.chunks, size: MiB + 1 }), /\/artifacts\/model\/files\/1\/chunks\/size: must be one of 1048576, /],
    ['a chunk size below 1 MiB (a million digests for a 1 TB file)', (file: LockedFile) => ({ ...file.chunks, size: 4096 }), /chunks\/size: must be one of/],
  ])('%s is LOCKFILE_INVALID, one line, exit 2', (_, edit, message) => {
    const { dir } = lockedModel();
    const lock = readLock(dir);
    const file = weightsOf(lock) as LockedFile;
    file.chunks = edit(file) as LockedFile['chunks'];
    writeFileSync(join(dir, 'aisc.lock.json'), JSON.stringify(lock));
    const result = runAisc(['verify'], dir);
    expect(result.status).toBe(2);
    expect(errorLines(result)).toEqual([expect.stringMatching(message)]);
    expect(errorLines(result)[0]).toMatch(/^aisc: LOCKFILE_INVALID aisc\.lock\.json: /);
  });
});

describe('an artifact of more than 1,000 files keeps its chunk digests in its manifest', () => {
  it('locks them into a v4 manifest, verifies by them, names the range that differs', () => {
    const dir = makeTempDir();
    const root = join(dir, 'data');
    mkdirSync(join(root, 'shards'), { recursive: true });
    for (let i = 0; i < 1001; i++) writeFileSync(join(root, 'shards', `s${String(i).padStart(4, '0')}.txt`), `row ${i}\n`);
    const big = randomBytes(3 * MiB + 1);
    writeFileSync(join(root, 'big.bin'), big);
    expect(runAisc(['lock', 'data', '--kind', 'dataset'], dir, CHUNKED).status).toBe(0);
    const manifests = join(dir, '.aisc', 'manifests');
    const [manifest] = readdirNames(manifests);
    const text = readFileSync(join(manifests, manifest ?? ''), 'utf8');
    expect(text.split('\n')[0]).toBe('# aisc manifest v4: sha256 size format inspected chunks path, one file a line, in code-point order of path');
    expect(text).toContain(`${sha256(big)} ${big.length} unknown yes ${MiB}:${chunkDigests(big).join('')} big.bin\n`);
    expect(text).toContain(' - shards/s0000.txt\n');
    expect(runAisc(['verify'], dir).status).toBe(0);
    big[2 * MiB] = (big[2 * MiB] ?? 0) ^ 1;
    writeFileSync(join(root, 'big.bin'), big);
    expect(verifyJson(dir).findings).toEqual([expect.objectContaining({ code: 'DIGEST_MISMATCH', message: `content differs from the lockfile: bytes ${2 * MiB}–${3 * MiB - 1} differ (chunk 3 of 4)` })]);
  });
});

function readdirNames(path: string): string[] {
  return existsSync(path) ? readdirSync(path) : [];
}

describe('AISC_CHUNK_BYTES', () => {
  it('refuses a size the lockfile could not hold (USAGE, exit 2) before anything is read', () => {
    const dir = makeTempDir();
    writeFileSync(join(dir, 'w.bin'), 'x');
    const result = runAisc(['lock', 'w.bin', '--kind', 'model'], dir, { AISC_CHUNK_BYTES: '1000' });
    expect(result.status).toBe(2);
    expect(errorLines(result)).toEqual(['aisc: USAGE AISC_CHUNK_BYTES: expected a power of two from 1048576 to 4294967296 (bytes), got "1000"']);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
    expect(statSync(join(dir, 'w.bin')).size).toBe(1);
  });
});
