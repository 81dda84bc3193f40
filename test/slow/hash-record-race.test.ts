import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashRecord } from '../../src/hashing/hash-record.js';
import { runAiscAsync } from '../helpers/cli.js';
import { sha256, startHub, type LoopbackHub } from '../helpers/hub-server.js';
import { makeTempDir } from '../helpers/temp.js';

const MiB = 1024 * 1024;
const COMMIT = 'c'.repeat(40);
const REPOS = ['acme/a', 'acme/b', 'acme/c'];
const ROUNDS = 8;

// `npm run test:slow`: 24 fetch processes. Three models fetched at once into one HF cache, as
// parallel CI jobs on one runner do; before the record was appended to, each fetch rewrote it from
// what it had loaded and the last one to save won.
describe('the hash record, written by aisc fetch runs at once', () => {
  let hub: LoopbackHub;
  const weights = new Map(REPOS.map((repo) => [repo, randomBytes(2 * MiB + 1)]));
  beforeAll(async () => {
    hub = await startHub(Object.fromEntries(REPOS.map((repo) => [repo, { type: 'model' as const, refs: { main: COMMIT }, commits: { [COMMIT]: [{ path: 'weights.bin', content: weights.get(repo) ?? Buffer.alloc(0), lfs: true }] } }])));
  });
  afterAll(() => hub.close());

  it(`keeps every fetch's entry: ${REPOS.length} fetches at once, ${ROUNDS} rounds, each into a fresh cache`, async () => {
    const dir = makeTempDir();
    const env = { HF_ENDPOINT: hub.endpoint, HF_HOME: join(dir, 'hf-home'), HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_OFFLINE: '', XDG_CACHE_HOME: join(dir, 'xdg'), AISC_CHUNK_BYTES: String(MiB) };
    for (const repo of REPOS) {
      const locked = await runAiscAsync(['lock', `hf://${repo}`, '--lockfile', `${repo.slice(5)}.lock.json`], dir, { ...env, HF_HUB_CACHE: join(dir, 'lock-cache') });
      expect(locked.status).toBe(0);
    }
    const blobs: { repo: string; blob: string }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const cache = join(dir, `cache-${round}`);
      const fetched = await Promise.all(REPOS.map((repo) => runAiscAsync(['fetch', '--lockfile', `${repo.slice(5)}.lock.json`], dir, { ...env, HF_HUB_CACHE: cache })));
      expect(fetched.map((result) => [result.status, result.stderr])).toEqual(REPOS.map(() => [0, '']));
      for (const repo of REPOS) blobs.push({ repo, blob: join(cache, `models--${repo.replace('/', '--')}`, 'blobs', sha256(weights.get(repo) ?? '')) });
    }
    const record = await HashRecord.open({ XDG_CACHE_HOME: join(dir, 'xdg') }, false);
    if (!(record instanceof HashRecord)) throw new Error(record.problem);
    const lost = blobs.filter(({ repo, blob }) => record.lookup(statSync(blob, { bigint: true }))?.sha256 !== sha256(weights.get(repo) ?? ''));
    expect({ kept: blobs.length - lost.length, lost: lost.map(({ blob }) => blob.slice(dir.length)) }).toEqual({ kept: REPOS.length * ROUNDS, lost: [] });
  }, 300_000);
});
