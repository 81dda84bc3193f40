import { appendFileSync, chmodSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
    expect(await HashRecord.open(env, false)).toEqual({ problem: expect.stringMatching(/hashed\.v1\.jsonl must be owned by this user and writable by no one else \(mode 666\)/) as unknown });
    chmodSync(join(folder, 'hashed.v1.jsonl'), 0o600);
    chmodSync(folder, 0o777);
    expect(await HashRecord.open(env, true)).toEqual({ problem: expect.stringMatching(/aisc must be owned by this user and writable by no one else \(mode 777\)/) as unknown });
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
