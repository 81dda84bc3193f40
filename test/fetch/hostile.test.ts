import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSafetensors } from '../../examples/make-example.js';
import { computeRootDigest } from '../../src/lockfile/index.js';
import { errorLines, runAiscAsync } from '../helpers/cli.js';
import { gitBlobSha1, sha256, startHub, type HubFile, type LoopbackHub } from '../helpers/hub-server.js';
import { startRegistry, type LoopbackServer } from '../helpers/registry-server.js';
import { makeTempDir } from '../helpers/temp.js';

/**
 * What a lockfile from a pull request or a shared HF cache can hold, and what `aisc fetch` must
 * then do: never write outside the lockfile's folder or the cache, never through a link, always
 * one coded line and the documented exit code, never lose what is already on disk.
 */

const COMMIT = '1'.repeat(40);
const WEIGHTS = makeSafetensors({ 'a.weight': { dtype: 'F32', shape: [16, 16] } }, 1);
const BIG = Buffer.alloc(300_000, 7);
const NOTES = Buffer.from('# notes\n');
const FILES: HubFile[] = [
  { path: 'config.json', content: Buffer.from('{"hidden_size": 16}\n') },
  { path: 'model.safetensors', content: WEIGHTS, lfs: true },
  { path: 'extra/big.bin', content: BIG, lfs: true },
  { path: 'extra/notes.md', content: NOTES },
];
const PRECIOUS = 'precious: not aisc\'s to touch\n';

let hub: LoopbackHub | undefined;
let server: LoopbackServer | undefined;
afterEach(async () => {
  await hub?.close();
  await server?.close();
  hub = undefined;
  server = undefined;
});

async function lockHub(): Promise<{ dir: string; cache: string; repo: string; env: Record<string, string>; hub: LoopbackHub }> {
  hub = await startHub({ 'acme/tiny': { type: 'model', refs: { main: COMMIT }, commits: { [COMMIT]: FILES } } });
  const dir = makeTempDir();
  const cache = join(dir, 'hf-cache');
  const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache, HF_HOME: join(dir, 'hf-home'), HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_OFFLINE: '' };
  const locked = await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env);
  expect(locked.status).toBe(0);
  return { dir, cache, repo: join(cache, 'models--acme--tiny'), env, hub };
}

const bigRequests = (h: LoopbackHub) => h.requests.filter((r) => r.server === 'cdn' && r.path.includes(sha256(BIG)));

describe('aisc fetch into a shared HF cache someone else shaped', () => {
  it('a symlink planted at a blob\'s partial name is removed (the link, not its target) and the download starts over', async () => {
    const { dir, repo, env } = await lockHub();
    writeFileSync(join(dir, 'victim.txt'), PRECIOUS);
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    const partial = join(repo, 'blobs', `${sha256(BIG)}.aisc.incomplete`);
    symlinkSync(join(dir, 'victim.txt'), partial);
    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.status).toBe(0);
    expect(readFileSync(join(dir, 'victim.txt'), 'utf8')).toBe(PRECIOUS);
    expect(readFileSync(join(repo, 'blobs', sha256(BIG))).equals(BIG)).toBe(true);
    expect(existsSync(partial) || (lstatSync(partial, { throwIfNoEntry: false })?.isSymbolicLink() ?? false)).toBe(false);
  });

  it('a snapshot folder that is a link to a folder outside is refused (CACHE_UNSAFE, exit 2); the file out there is untouched', async () => {
    const { dir, repo, env } = await lockHub();
    mkdirSync(join(dir, 'outside'));
    writeFileSync(join(dir, 'outside', 'notes.md'), PRECIOUS);
    mkdirSync(join(repo, 'snapshots', COMMIT), { recursive: true });
    symlinkSync(join(dir, 'outside'), join(repo, 'snapshots', COMMIT, 'extra'));
    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.status).toBe(2);
    const lines = errorLines(fetched);
    expect(lines[0]).toMatch(/^aisc: CACHE_UNSAFE tiny: extra\/(big\.bin|notes\.md): .*snapshots\/1{40}\/extra is a symlink/);
    expect(lines.every((line) => /^aisc: CACHE_UNSAFE /.test(line))).toBe(true);
    expect(lstatSync(join(dir, 'outside', 'notes.md')).isFile()).toBe(true);
    expect(readFileSync(join(dir, 'outside', 'notes.md'), 'utf8')).toBe(PRECIOUS);
    expect(existsSync(join(dir, 'outside', 'big.bin'))).toBe(false);
    // What could land did; refs/main does not announce an incomplete snapshot.
    expect(readFileSync(join(repo, 'snapshots', COMMIT, 'config.json'), 'utf8')).toBe('{"hidden_size": 16}\n');
    expect(existsSync(join(repo, 'refs', 'main'))).toBe(false);
  });

  it('a folder where a blob belongs is CACHE_UNSAFE (exit 2), not an internal error; it is left as it is', async () => {
    const { dir, repo, env } = await lockHub();
    mkdirSync(join(repo, 'blobs', sha256(BIG)), { recursive: true });
    mkdirSync(join(repo, 'blobs', gitBlobSha1(NOTES)), { recursive: true });
    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.status).toBe(2);
    const lines = errorLines(fetched).sort();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^aisc: CACHE_UNSAFE tiny: extra\/big\.bin: .*blobs\/[0-9a-f]{64} is a folder/);
    expect(lines[1]).toMatch(/^aisc: CACHE_UNSAFE tiny: extra\/notes\.md: .*blobs\/[0-9a-f]{40} is a folder/);
    expect(lstatSync(join(repo, 'blobs', sha256(BIG))).isDirectory()).toBe(true);
  });

  it('a partial download that is already complete is hashed, never asked for again (no 416 loop); wrong bytes are discarded and downloaded again', async () => {
    const { dir, repo, env, hub } = await lockHub();
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    const partial = join(repo, 'blobs', `${sha256(BIG)}.aisc.incomplete`);
    writeFileSync(partial, BIG);
    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.stderr).toBe('');
    expect(fetched.status).toBe(0);
    expect(bigRequests(hub)).toEqual([]);
    expect(readFileSync(join(repo, 'blobs', sha256(BIG))).equals(BIG)).toBe(true);
    expect(existsSync(partial)).toBe(false);

    // The same size, other bytes: discarded, said so, downloaded from the first byte.
    rmSync(join(repo), { recursive: true });
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    writeFileSync(partial, Buffer.alloc(BIG.length, 8));
    const again = await runAiscAsync(['fetch'], dir, env);
    expect(again.status).toBe(0);
    expect(errorLines(again)).toEqual([`aisc: tiny: extra/big.bin: the partial download left on disk (${partial}, ${BIG.length} bytes) is not the locked bytes; it was discarded and the download started over`]);
    expect(bigRequests(hub).map((r) => r.headers.range)).toEqual([undefined]);
    expect(readFileSync(join(repo, 'blobs', sha256(BIG))).equals(BIG)).toBe(true);
  });

  it('a partial download whose bytes are wrong is blamed on the file on disk, discarded, and the download starts over', async () => {
    const { dir, repo, env, hub } = await lockHub();
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    const partial = join(repo, 'blobs', `${sha256(BIG)}.aisc.incomplete`);
    writeFileSync(partial, Buffer.alloc(1000, 9));
    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.status).toBe(0);
    expect(errorLines(fetched)).toEqual([`aisc: tiny: extra/big.bin: the partial download left on disk (${partial}, 1000 bytes) is not the locked bytes; it was discarded and the download started over`]);
    // Resumed once from byte 1,000, then from the first byte.
    expect(bigRequests(hub).map((r) => r.headers.range)).toEqual(['bytes=1000-', undefined]);
    expect(readFileSync(join(repo, 'blobs', sha256(BIG))).equals(BIG)).toBe(true);
  });
});

describe('aisc fetch of a lockfile from a pull request', () => {
  it('a Hub ref that climbs out of refs/ is refused when the lockfile is read (LOCKFILE_INVALID, exit 2); nothing is written', async () => {
    const { dir, cache, env, hub } = await lockHub();
    for (const ref of ['../../../x', 'main/../../../../x', 'a//b', '.', `${'a'.repeat(257)}`]) {
      const lock = JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: { tiny: { source: { ref: string } } } };
      lock.artifacts.tiny.source.ref = ref;
      writeFileSync(join(dir, 'evil.lock.json'), JSON.stringify(lock));
      const before = hub.requests.length;
      const fetched = await runAiscAsync(['fetch', '--lockfile', 'evil.lock.json'], dir, env);
      expect(fetched.status).toBe(2);
      expect(errorLines(fetched)[0]).toMatch(/^aisc: LOCKFILE_INVALID evil\.lock\.json: \/artifacts\/tiny\/source\/ref: /);
      expect(hub.requests.length).toBe(before);
    }
    expect(existsSync(join(dir, 'x'))).toBe(false);
    expect(existsSync(cache)).toBe(false);
  });

  it.each([
    ['../outside.bin', 'has a \'..\' segment'],
    ['sub/../../outside.bin', 'has a \'..\' segment'],
    ['ABSOLUTE', 'is absolute'],
  ])('a kept path %j is refused before any download (PATH_INVALID, exit 2)', async (path, why) => {
    const dir = makeTempDir();
    const body = Buffer.from('{"x": 1}\n');
    server = await startRegistry({ '/f.json': (_request, response) => void response.writeHead(200).end(body) });
    const project = join(dir, 'project');
    mkdirSync(project);
    const kept = path === 'ABSOLUTE' ? join(dir, 'outside.bin') : path;
    const files = [{ path: 'f.json', size: body.length, sha256: sha256(body) }];
    writeFileSync(join(project, 'aisc.lock.json'), JSON.stringify({ lockfileVersion: 1, artifacts: { f: { kind: 'tokenizer', layout: 'file', source: { type: 'url', url: `${server.url}f.json`, path: kept }, files, digest: computeRootDigest(files) } } }));
    const fetched = await runAiscAsync(['fetch'], project, {});
    expect(fetched.status).toBe(2);
    expect(errorLines(fetched)).toEqual([`aisc: PATH_INVALID f: source.path ${JSON.stringify(kept)}: aisc fetch writes a kept file only under the lockfile's folder, and this path ${why}`]);
    expect(server.hits.size).toBe(0);
    expect(existsSync(join(dir, 'outside.bin'))).toBe(false);
  });

  it('a kept path under a folder that is a link is refused (WRITE_REFUSED, exit 2); nothing lands out there', async () => {
    const dir = makeTempDir();
    const body = Buffer.from('{"x": 1}\n');
    server = await startRegistry({ '/f.json': (_request, response) => void response.writeHead(200).end(body) });
    const project = join(dir, 'project');
    mkdirSync(join(dir, 'elsewhere'), { recursive: true });
    mkdirSync(project);
    symlinkSync(join(dir, 'elsewhere'), join(project, 'models'));
    const files = [{ path: 'f.json', size: body.length, sha256: sha256(body) }];
    writeFileSync(join(project, 'aisc.lock.json'), JSON.stringify({ lockfileVersion: 1, artifacts: { f: { kind: 'tokenizer', layout: 'file', source: { type: 'url', url: `${server.url}f.json`, path: 'models/f.json' }, files, digest: computeRootDigest(files) } } }));
    const fetched = await runAiscAsync(['fetch'], project, {});
    expect(fetched.status).toBe(2);
    expect(errorLines(fetched)).toEqual([`aisc: WRITE_REFUSED f: ${join(project, 'models')} is a symlink; aisc writes under the lockfile's folder only through real folders (remove the link, or keep the file elsewhere and lock it from there)`]);
    expect(existsSync(join(dir, 'elsewhere', 'f.json'))).toBe(false);
  });
});

describe('aisc fetch of an https:// file: partial downloads and 416', () => {
  /** Serves `body` with Range support as real servers do: 416 for a range starting at or past the end; `refuseRanges` answers 416 to any Range. */
  const serve = (body: Buffer, options: { refuseRanges?: boolean } = {}) =>
    startRegistry({
      '/w.bin': (request, response) => {
        const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
        if (!range) return void response.writeHead(200, { 'content-length': String(body.length) }).end(body);
        const start = Number(range[1]);
        if (options.refuseRanges || start >= body.length) return void response.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        response.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': String(body.length - start) }).end(body.subarray(start));
      },
    });

  it('a complete .aisc-download left by a killed fetch is checked and renamed, never asked for with Range', async () => {
    const dir = makeTempDir();
    const body = Buffer.alloc(50_000, 3);
    server = await serve(body);
    expect((await runAiscAsync(['lock', `${server.url}w.bin`, '--path', 'w.bin', '--kind', 'model'], dir)).status).toBe(0);
    rmSync(join(dir, 'w.bin'));
    writeFileSync(join(dir, 'w.bin.aisc-download'), body);
    server.headers.length = 0;
    const fetched = await runAiscAsync(['fetch'], dir);
    expect(fetched.stderr).toBe('');
    expect(fetched.status).toBe(0);
    expect(server.headers).toEqual([]);
    expect(readFileSync(join(dir, 'w.bin')).equals(body)).toBe(true);
    expect(existsSync(join(dir, 'w.bin.aisc-download'))).toBe(false);
  });

  it('a 416 to a resume discards the partial download and starts from the first byte, once', async () => {
    const dir = makeTempDir();
    const body = Buffer.alloc(50_000, 3);
    server = await serve(body, { refuseRanges: true });
    expect((await runAiscAsync(['lock', `${server.url}w.bin`, '--path', 'w.bin', '--kind', 'model'], dir)).status).toBe(0);
    rmSync(join(dir, 'w.bin'));
    writeFileSync(join(dir, 'w.bin.aisc-download'), body.subarray(0, 100));
    server.headers.length = 0;
    const fetched = await runAiscAsync(['fetch'], dir);
    expect(fetched.status).toBe(0);
    expect(server.headers.map((h) => h.range)).toEqual(['bytes=100-', undefined]);
    expect(readFileSync(join(dir, 'w.bin')).equals(body)).toBe(true);
  });

  it('a symlink planted at the partial name is removed, not written through', async () => {
    const dir = makeTempDir();
    const body = Buffer.alloc(50_000, 3);
    server = await serve(body);
    expect((await runAiscAsync(['lock', `${server.url}w.bin`, '--path', 'w.bin', '--kind', 'model'], dir)).status).toBe(0);
    rmSync(join(dir, 'w.bin'));
    writeFileSync(join(dir, 'victim.txt'), PRECIOUS);
    symlinkSync(join(dir, 'victim.txt'), join(dir, 'w.bin.aisc-download'));
    const fetched = await runAiscAsync(['fetch'], dir);
    expect(fetched.status).toBe(0);
    expect(readFileSync(join(dir, 'victim.txt'), 'utf8')).toBe(PRECIOUS);
    expect(readFileSync(join(dir, 'w.bin')).equals(body)).toBe(true);
  });
});

describe('a name planted where aisc keeps its lock file', () => {
  it('a dangling symlink or a FIFO at the lockfile\'s lock or a kept file\'s lock is removed (never followed), and lock and fetch go on', async () => {
    const dir = makeTempDir();
    const body = Buffer.alloc(20_000, 5);
    server = await startRegistry({ '/w.bin': (_request, response) => void response.writeHead(200, { 'content-length': String(body.length) }).end(body) });
    writeFileSync(join(dir, 'victim.txt'), PRECIOUS);
    // Before the fix: `open(lock, 'r')` followed the dangling link (ENOENT) and looped at full CPU,
    // or blocked on the FIFO; both without a word, forever.
    symlinkSync(join(dir, 'nowhere'), join(dir, 'aisc.lock.json.lock'));
    const locked = await runAiscAsync(['lock', `${server.url}w.bin`, '--path', 'w.bin', '--kind', 'model'], dir);
    expect(locked.stderr).toBe('');
    expect(locked.status).toBe(0);
    rmSync(join(dir, 'w.bin'));
    execFileSync('mkfifo', [join(dir, 'w.bin.aisc.lock')]);
    symlinkSync(join(dir, 'victim.txt'), join(dir, 'aisc.lock.json.lock'));
    const fetched = await runAiscAsync(['fetch'], dir);
    expect(fetched.status).toBe(0);
    expect(readFileSync(join(dir, 'w.bin')).equals(body)).toBe(true);
    expect(readFileSync(join(dir, 'victim.txt'), 'utf8')).toBe(PRECIOUS);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
  }, 60_000);
});
