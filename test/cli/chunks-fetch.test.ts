import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { errorLines, runAiscAsync } from '../helpers/cli.js';
import { startHub, type HubFile, type LoopbackHub } from '../helpers/hub-server.js';
import { makeTempDir } from '../helpers/temp.js';

const MiB = 1024 * 1024;
const COMMIT = 'c'.repeat(40);
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const chunkDigests = (data: Buffer): string[] => Array.from({ length: Math.ceil(data.length / MiB) }, (_, k) => sha256(data.subarray(k * MiB, (k + 1) * MiB)));

interface LockedFile {
  path: string;
  sha256: string;
  inspected?: false;
  format?: string;
  chunks?: { size: number; sha256: string[] };
}
const filesOf = (dir: string): LockedFile[] => (JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: Record<string, { files: LockedFile[] }> }).artifacts.big?.files ?? [];
const weightsOf = (dir: string): LockedFile | undefined => filesOf(dir).find((file) => file.path === 'weights.bin');

let hub: LoopbackHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

/** A Hub repo with one LFS file of three 1 MiB chunks and more, beside a small config; an aisc cache of its own. */
async function setup(weights: Buffer, tamper?: Buffer): Promise<{ dir: string; env: Record<string, string>; cache: string; snapshot: string; blob: string }> {
  const files: HubFile[] = [
    { path: 'config.json', content: Buffer.from('{"hidden_size": 16}\n') },
    { path: 'weights.bin', content: weights, lfs: true },
  ];
  hub = await startHub({ 'acme/big': { type: 'model', refs: { main: COMMIT }, commits: { [COMMIT]: files } } }, tamper ? { tamper: { 'weights.bin': tamper } } : {});
  const dir = makeTempDir();
  const cache = join(dir, 'hf-cache');
  const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache, HF_HOME: join(dir, 'hf-home'), HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_OFFLINE: '', XDG_CACHE_HOME: join(dir, 'xdg'), AISC_CHUNK_BYTES: String(MiB) };
  const repo = join(cache, 'models--acme--big');
  return { dir, env, cache, snapshot: join(repo, 'snapshots', COMMIT), blob: join(repo, 'blobs', sha256(weights)) };
}

/** The blob's access time: reading it moves it (the file system updates atime on a read after a write). */
const accessed = (path: string): bigint => statSync(path, { bigint: true }).atimeNs;

describe('bytes that arrive already hashed: fetch computes chunk digests as it streams, lock takes them', () => {
  it('a Hub file locked without chunks gets them on the next lock of its snapshot or of hf://, and the file is not read again', async () => {
    const weights = randomBytes(3 * MiB + 5);
    const { dir, env, snapshot, blob } = await setup(weights);
    expect((await runAiscAsync(['lock', 'hf://acme/big'], dir, env)).status).toBe(0);
    // Listed from the Hub: the LFS file's digest without its bytes, so no chunks.
    expect(weightsOf(dir)).toEqual({ path: 'weights.bin', size: weights.length, sha256: sha256(weights), inspected: false });
    copyFileSync(join(dir, 'aisc.lock.json'), join(dir, 'hub.lock.json'));

    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.stderr).toBe('');
    expect(fetched.status).toBe(0);
    const record = readFileSync(join(dir, 'xdg', 'aisc', 'hashed.v1.jsonl'), 'utf8');
    expect(record).toContain(chunkDigests(weights).join(''));
    const before = accessed(blob);

    // hf:// again: the listing's SHA-256 is the recorded one for the file in the snapshot, unchanged.
    expect((await runAiscAsync(['lock', 'hf://acme/big'], dir, env)).status).toBe(0);
    expect(weightsOf(dir)).toEqual({ path: 'weights.bin', size: weights.length, sha256: sha256(weights), inspected: false, chunks: { size: MiB, sha256: chunkDigests(weights) } });
    // The snapshot folder: digest, chunks and inspection from fetch's pass, not from a second read.
    const relocked = await runAiscAsync(['lock', snapshot, '--name', 'big'], dir, env);
    expect(relocked.stderr).toBe('');
    expect(relocked.status).toBe(0);
    expect(weightsOf(dir)).toEqual({ path: 'weights.bin', size: weights.length, sha256: sha256(weights), format: 'unknown', chunks: { size: MiB, sha256: chunkDigests(weights) } });
    expect(accessed(blob)).toBe(before);

    // The control: without the record the same lock reads the file, and its access time moves.
    const unrecorded = await runAiscAsync(['lock', snapshot, '--name', 'big', '--lockfile', 'other.lock.json'], dir, { ...env, XDG_CACHE_HOME: join(dir, 'elsewhere') });
    expect(unrecorded.status).toBe(0);
    expect(accessed(blob)).not.toBe(before);
    expect(readFileSync(join(dir, 'other.lock.json'), 'utf8')).toBe(readFileSync(join(dir, 'aisc.lock.json'), 'utf8'));

    expect((await runAiscAsync(['verify'], dir, env)).status).toBe(0);
    const diff = await runAiscAsync(['diff', 'hub.lock.json', 'aisc.lock.json'], dir, env);
    expect(diff.stdout).toContain('weights.bin (3.0 MiB → 3.0 MiB); same SHA-256, chunk digests added');
  });

  it('a file changed since fetch hashed it is read again by lock (its identity moved)', async () => {
    const weights = randomBytes(2 * MiB + 1);
    const { dir, env, snapshot, blob } = await setup(weights);
    expect((await runAiscAsync(['lock', 'hf://acme/big'], dir, env)).status).toBe(0);
    expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
    // Other bytes of the same size under the blob: the record's identity no longer matches.
    const other = randomBytes(weights.length);
    writeFileSync(blob, other);
    const relocked = await runAiscAsync(['lock', snapshot, '--name', 'big'], dir, env);
    expect(relocked.status).toBe(0);
    expect(weightsOf(dir)).toMatchObject({ sha256: sha256(other), chunks: { size: MiB, sha256: chunkDigests(other) } });
  });

  it('fetch checks locked chunk digests as the bytes stream, and stops at the first chunk that differs', async () => {
    const weights = randomBytes(4 * MiB);
    const { dir, env, cache } = await setup(weights);
    expect((await runAiscAsync(['lock', 'hf://acme/big'], dir, env)).status).toBe(0);
    expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
    expect((await runAiscAsync(['lock', 'hf://acme/big'], dir, env)).status).toBe(0);
    expect(weightsOf(dir)?.chunks?.sha256).toHaveLength(4);
    // A mirror that lies in the second chunk, into a fresh cache.
    const tampered = Buffer.from(weights);
    tampered[MiB + 9] = (tampered[MiB + 9] ?? 0) ^ 1;
    await hub?.close();
    hub = await startHub({ 'acme/big': { type: 'model', refs: { main: COMMIT }, commits: { [COMMIT]: [{ path: 'config.json', content: Buffer.from('{"hidden_size": 16}\n') }, { path: 'weights.bin', content: weights, lfs: true }] } } }, { tamper: { 'weights.bin': tampered } });
    const fresh = { ...env, HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: join(dir, 'fresh-cache') };
    const refused = await runAiscAsync(['fetch'], dir, fresh);
    expect(refused.status).toBe(1);
    expect(errorLines(refused)).toEqual([`aisc: CONTENT_MISMATCH big: weights.bin: the bytes served are not what is locked (bytes ${MiB}–${2 * MiB - 1} hash to another SHA-256 than the locked chunk digest); nothing was kept`]);
    expect(existsSync(join(dir, 'fresh-cache', 'models--acme--big', 'blobs', sha256(weights)))).toBe(false);
    expect(existsSync(cache)).toBe(true);
  });
});
