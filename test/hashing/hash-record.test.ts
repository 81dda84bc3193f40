import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HashRecord, type HashedFile } from '../../src/hashing/hash-record.js';
import { makeTempDir } from '../helpers/temp.js';

const MiB = 1024 * 1024;

function setup(): { env: NodeJS.ProcessEnv; dir: string; file: string; hashed: HashedFile } {
  const dir = makeTempDir();
  const file = join(dir, 'blob');
  writeFileSync(file, Buffer.alloc(2 * MiB + 1, 7));
  const hashed: HashedFile = { sha256: 'a'.repeat(64), size: 2 * MiB + 1, chunks: { size: MiB, sha256: ['1'.repeat(64), '2'.repeat(64), '3'.repeat(64)] }, format: 'unknown', inspection: { format: 'unknown' } };
  return { env: { XDG_CACHE_HOME: join(dir, 'xdg') }, dir, file, hashed };
}

async function opened(env: NodeJS.ProcessEnv, create = false): Promise<HashRecord> {
  const record = await HashRecord.open(env, create);
  if (!(record instanceof HashRecord)) throw new Error(record.problem);
  return record;
}

describe('the hash record', () => {
  it('answers for the file it was given while its identity is unchanged, across runs, and not once it changes', async () => {
    const { env, file, hashed } = setup();
    const first = await opened(env, true);
    first.add(file, hashed);
    await first.save();
    expect(statSync(join(env.XDG_CACHE_HOME ?? '', 'aisc')).mode & 0o777).toBe(0o700);
    expect(statSync(join(env.XDG_CACHE_HOME ?? '', 'aisc', 'hashed.v1.jsonl')).mode & 0o777).toBe(0o600);
    const again = await opened(env);
    expect(again.lookup(statSync(file, { bigint: true }))).toEqual(hashed);
    // Same size, other bytes, put in its place: another inode, so the record no longer speaks for it.
    writeFileSync(`${file}.new`, Buffer.alloc(2 * MiB + 1, 8));
    renameSync(`${file}.new`, file);
    expect(again.lookup(statSync(file, { bigint: true }))).toBeUndefined();
  });

  it('is not used, nor written, when others may write it; a line that does not read is dropped', async () => {
    const { env, file, hashed } = setup();
    const record = await opened(env, true);
    record.add(file, hashed);
    await record.save();
    const folder = join(env.XDG_CACHE_HOME ?? '', 'aisc');
    appendFileSync(join(folder, 'hashed.v1.jsonl'), '["1","2",3,"4","5","nonsense"]\n');
    expect((await opened(env)).lookup(statSync(file, { bigint: true }))).toEqual(hashed);
    chmodSync(join(folder, 'hashed.v1.jsonl'), 0o666);
    expect(await HashRecord.open(env, false)).toEqual({ problem: expect.stringMatching(/hashed\.v1\.jsonl must be owned by this user and writable by no one else: its mode 666 lets others write it \(chmod go-w\); or use another folder$/) as unknown });
    chmodSync(join(folder, 'hashed.v1.jsonl'), 0o600);
    chmodSync(folder, 0o1777);
    expect(await HashRecord.open(env, true)).toEqual({ problem: expect.stringMatching(/aisc must be owned by this user and writable by no one else: its mode 1777 lets others write it/) as unknown });
    chmodSync(folder, 0o700);
    // Another owner is named as such (root can give the folder away; others cannot, and skip this).
    if (process.getuid?.() === 0) {
      chownSync(folder, 65534, 65534);
      expect(await HashRecord.open(env, true)).toEqual({ problem: expect.stringMatching(/aisc must be owned by this user and writable by no one else: it is owned by uid 65534, not this user \(uid 0\); or use another folder$/) as unknown });
      chownSync(folder, 0, 0);
    }
  });

  it('is not believed nor written through a link, and not appended to once others may write it', async () => {
    const { env, dir, file, hashed } = setup();
    const folder = join(env.XDG_CACHE_HOME ?? '', 'aisc');
    const recordFile = join(folder, 'hashed.v1.jsonl');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'elsewhere'), '{"aiscHashed":1}\n');
    symlinkSync(join(dir, 'elsewhere'), recordFile);
    expect(await HashRecord.open(env, true)).toEqual({ problem: `${recordFile} is not a regular file` });
    rmSync(recordFile);
    // Made writable by others between open and save: the append is refused, the file left as it was.
    const record = await opened(env, true);
    record.add(file, hashed);
    await record.save();
    const before = readFileSync(recordFile, 'utf8');
    const late = await opened(env, true);
    late.add(file, { ...hashed, sha256: 'b'.repeat(64) });
    chmodSync(recordFile, 0o646);
    await expect(late.save()).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    expect(readFileSync(recordFile, 'utf8')).toBe(before);
    expect(statSync(recordFile).mode & 0o777).toBe(0o646);
  });

  it('does not record a file whose size is not the one hashed', async () => {
    const { env, dir, hashed } = setup();
    mkdirSync(join(dir, 'other'));
    const short = join(dir, 'other', 'short');
    writeFileSync(short, 'x');
    const record = await opened(env, true);
    record.add(short, hashed);
    expect(record.lookup(statSync(short, { bigint: true }))).toBeUndefined();
  });
});

const RECORD_WRITER = fileURLToPath(new URL('../helpers/record-writer.js', import.meta.url));

/** One `record-writer.js` process: `rounds` times open, add `perRound` files of its own folder, save. */
function runRecordWriter(cache: string, folder: string, rounds: number, perRound: number): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RECORD_WRITER, cache, folder, String(rounds), String(perRound)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

describe('the hash record, written by several processes at once', () => {
  // Before appends, each save rewrote the record from what its process had loaded: with 4 writers
  // x 25 rounds x 4 files, the last rename won and most other writers' entries were gone.
  it('keeps every entry of every writer: 4 processes, 25 rounds of open, add 4, save each', async () => {
    const dir = makeTempDir();
    const cache = join(dir, 'xdg');
    const [writers, rounds, perRound] = [4, 25, 4];
    const folders = Array.from({ length: writers }, (_, w) => join(dir, `writer-${w}`));
    const results = await Promise.all(folders.map((folder) => runRecordWriter(cache, folder, rounds, perRound)));
    expect(results).toEqual(folders.map(() => ({ status: 0, stderr: '' })));
    const record = await opened({ XDG_CACHE_HOME: cache });
    const missing: string[] = [];
    for (const folder of folders) {
      for (let round = 0; round < rounds; round++) {
        for (let k = 0; k < perRound; k++) {
          const file = join(folder, `${round}-${k}`);
          const sha256 = createHash('sha256').update(file).digest('hex');
          const found = record.lookup(statSync(file, { bigint: true }));
          if (!found || found.sha256 !== sha256 || found.chunks.sha256.join('') !== sha256) missing.push(file);
        }
      }
    }
    expect({ kept: writers * rounds * perRound - missing.length, missing: missing.slice(0, 5) }).toEqual({ kept: writers * rounds * perRound, missing: [] });
  });
});

/** A record line as aisc writes one: device 1, inode `ino`, one 1 MiB chunk. */
const lineFor = (ino: number): string => JSON.stringify(['1', String(ino), 10, '1', '1', 'a'.repeat(64), MiB, 'b'.repeat(64), null, null]);
/** What stat would say of that file, unchanged. */
const statsFor = (ino: number): BigIntStats => ({ dev: 1n, ino: BigInt(ino), size: 10n, mtimeNs: 1n, ctimeNs: 1n }) as BigIntStats;

describe('the hash record: appended to, compacted when it has grown well past its limit', () => {
  const recordOf = (env: NodeJS.ProcessEnv): string => join(env.XDG_CACHE_HOME ?? '', 'aisc', 'hashed.v1.jsonl');

  it('appends a save\'s lines to what is there; the last line for a file is its entry', async () => {
    const { env, file, hashed } = setup();
    const first = await opened(env, true);
    first.add(file, hashed);
    await first.save();
    const second = await opened(env, true);
    second.add(file, { ...hashed, sha256: 'b'.repeat(64) });
    await second.save();
    const lines = readFileSync(recordOf(env), 'utf8').split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('{"aiscHashed":1}');
    expect((await opened(env)).lookup(statSync(file, { bigint: true }))).toEqual({ ...hashed, sha256: 'b'.repeat(64) });
  });

  it('keeps the newest 10,000 entries once it holds 20,000 lines, the saving process\'s own among them', async () => {
    const { env, file, hashed } = setup();
    mkdirSync(join(env.XDG_CACHE_HOME ?? '', 'aisc'), { recursive: true, mode: 0o700 });
    writeFileSync(recordOf(env), `${['{"aiscHashed":1}', ...Array.from({ length: 20_000 }, (_, i) => lineFor(i))].join('\n')}\n`, { mode: 0o600 });
    const record = await opened(env, true);
    expect(record.lookup(statsFor(0))).toBeDefined();
    record.add(file, hashed);
    await record.save();
    const lines = readFileSync(recordOf(env), 'utf8').split('\n');
    expect(lines).toHaveLength(10_002);
    expect(lines.slice(0, 2)).toEqual(['{"aiscHashed":1}', lineFor(10_001)]);
    expect(statSync(recordOf(env)).mode & 0o777).toBe(0o600);
    const again = await opened(env);
    expect(again.lookup(statsFor(10_000))).toBeUndefined();
    expect(again.lookup(statsFor(19_999))).toBeDefined();
    expect(again.lookup(statSync(file, { bigint: true }))).toEqual(hashed);
  });

  it('skips a half-written last line and appends after it; a file without the header is rewritten, not appended to', async () => {
    const { env, file, hashed } = setup();
    mkdirSync(join(env.XDG_CACHE_HOME ?? '', 'aisc'), { recursive: true, mode: 0o700 });
    writeFileSync(recordOf(env), `{"aiscHashed":1}\n${lineFor(1)}\n${lineFor(2).slice(0, 40)}`, { mode: 0o600 });
    const torn = await opened(env, true);
    expect([torn.lookup(statsFor(1)), torn.lookup(statsFor(2))].map(Boolean)).toEqual([true, false]);
    torn.add(file, hashed);
    await torn.save();
    const after = await opened(env);
    expect([after.lookup(statsFor(1)), after.lookup(statSync(file, { bigint: true }))]).toEqual([expect.anything(), hashed]);

    writeFileSync(recordOf(env), `${lineFor(1)}\n`);
    const headless = await opened(env, true);
    expect(headless.lookup(statsFor(1))).toBeUndefined();
    headless.add(file, hashed);
    await headless.save();
    expect(readFileSync(recordOf(env), 'utf8').split('\n')[0]).toBe('{"aiscHashed":1}');
    expect((await opened(env)).lookup(statSync(file, { bigint: true }))).toEqual(hashed);
  });

  it('compacts once the file passes 128 MiB, however few lines that is', async () => {
    const { env, file, hashed } = setup();
    mkdirSync(join(env.XDG_CACHE_HOME ?? '', 'aisc'), { recursive: true, mode: 0o700 });
    writeFileSync(recordOf(env), `{"aiscHashed":1}\n${lineFor(1)}\n`, { mode: 0o600 });
    // Sparse: a last "line" of NUL bytes, which does not parse, takes it to the threshold.
    truncateSync(recordOf(env), 128 * MiB);
    const record = await opened(env, true);
    record.add(file, hashed);
    await record.save();
    expect(statSync(recordOf(env)).size).toBeLessThan(1024);
    const again = await opened(env);
    expect([again.lookup(statsFor(1)), again.lookup(statSync(file, { bigint: true }))]).toEqual([expect.anything(), hashed]);
  });

  it('reads a record past 256 MiB as empty, and the next save compacts it to what that save adds', async () => {
    const { env, file, hashed } = setup();
    mkdirSync(join(env.XDG_CACHE_HOME ?? '', 'aisc'), { recursive: true, mode: 0o700 });
    writeFileSync(recordOf(env), `{"aiscHashed":1}\n${lineFor(1)}\n`, { mode: 0o600 });
    // Sparse: no disk is used for the bytes past the line.
    truncateSync(recordOf(env), 256 * MiB + 1);
    const record = await opened(env, true);
    expect(record.lookup(statsFor(1))).toBeUndefined();
    record.add(file, hashed);
    await record.save();
    expect(statSync(recordOf(env)).size).toBeLessThan(1024);
    expect((await opened(env)).lookup(statSync(file, { bigint: true }))).toEqual(hashed);
  });
});
