import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSafetensors } from '../../examples/make-example.js';
import { computeRootDigest, sortFiles } from '../../src/lockfile/index.js';
import { errorLines, runAiscAsync } from '../helpers/cli.js';
import { gitBlobSha1, sha256, startHub, type HubFile, type HubRepo, type LoopbackHub } from '../helpers/hub-server.js';
import { evilPickle, stateDictPickle } from '../helpers/pickles.js';
import { makeTempDir } from '../helpers/temp.js';

const COMMIT_1 = '1'.repeat(40);
const COMMIT_2 = '2'.repeat(40);
const DATA_COMMIT = 'd'.repeat(40);

const weights = makeSafetensors({ 'a.weight': { dtype: 'F32', shape: [64, 64] } }, 1);
const FILES_1: HubFile[] = [
  { path: '.gitattributes', content: Buffer.from('*.safetensors filter=lfs diff=lfs merge=lfs -text\n') },
  { path: 'config.json', content: Buffer.from('{"hidden_size": 64}\n') },
  { path: 'tokenizer.json', content: Buffer.from('{"model": {"type": "BPE"}}\n') },
  { path: 'model.safetensors', content: weights, lfs: true },
  { path: 'extra/big.bin', content: Buffer.alloc(300_000, 7), lfs: true },
  { path: 'extra/notes.md', content: Buffer.from('# notes\n') },
];
const EVIL = evilPickle();
const STATE_DICT = stateDictPickle();
// A repo whose LFS pytorch_model.bin runs os.system on load, beside files that are fine.
const EVIL_FILES: HubFile[] = [
  { path: 'config.json', content: Buffer.from('{"hidden_size": 64}\n') },
  { path: 'model.safetensors', content: weights, lfs: true },
  { path: 'pytorch_model.bin', content: EVIL, lfs: true },
];
const FILES_2: HubFile[] = FILES_1.map((file) => (file.path === 'config.json' ? { ...file, content: Buffer.from('{"hidden_size": 65}\n') } : file));

function repos(): Record<string, HubRepo> {
  return {
    'acme/tiny': { type: 'model', refs: { main: COMMIT_1, 'refs/pr/1': COMMIT_2, v2: COMMIT_2 }, commits: { [COMMIT_1]: FILES_1, [COMMIT_2]: FILES_2 } },
    'acme/evil': { type: 'model', refs: { main: COMMIT_1 }, commits: { [COMMIT_1]: EVIL_FILES } },
    'acme/torch': { type: 'model', refs: { main: COMMIT_1 }, commits: { [COMMIT_1]: [{ path: 'config.json', content: Buffer.from('{}\n') }, { path: 'pytorch_model.bin', content: STATE_DICT, lfs: true }] } },
    'acme/gated': { type: 'model', refs: { main: COMMIT_1 }, commits: { [COMMIT_1]: FILES_1 }, gatedToken: 'hf_good' },
    'acme/corpus': { type: 'dataset', refs: { main: DATA_COMMIT, v1: DATA_COMMIT }, commits: { [DATA_COMMIT]: [{ path: 'data/train.jsonl', content: Buffer.from('{"text": "hi"}\n'.repeat(100)) }, { path: 'README.md', content: Buffer.from('# corpus\n') }] } },
  };
}

let hub: LoopbackHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

async function setup(behaviour = {}): Promise<{ dir: string; cache: string; env: Record<string, string>; hub: LoopbackHub }> {
  hub = await startHub(repos(), { pageSize: 2, ...behaviour });
  const dir = makeTempDir();
  const cache = join(dir, 'hf-cache');
  return { dir, cache, hub, env: { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache, HF_HOME: join(dir, 'hf-home'), HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_OFFLINE: '' } };
}

// Formats are told from the bytes read at lock time: small files downloaded, a safetensors header by Range; other LFS files are not read.
const FORMATS: Record<string, string> = { 'config.json': 'json', 'tokenizer.json': 'json', 'model.safetensors': 'safetensors', 'extra/notes.md': 'text' };
// LFS files are hashed from the listing, so their content is marked as not inspected.
const expectedFiles = (files: HubFile[]) =>
  sortFiles(files.filter((f) => f.path !== '.gitattributes').map((f) => ({ path: f.path, size: f.content.length, sha256: sha256(f.content), ...(FORMATS[f.path] ? { format: FORMATS[f.path] } : {}), ...(f.lfs ? { inspected: false } : {}) })));
/** stderr without lock's note on the files whose content it did not inspect. */
const withoutNote = (stderr: string) => stderr.replace(/^aisc: \S+: \d+ files?'s? content was not inspected .*\n/m, '');
const NOTE_TINY = `aisc: tiny: 2 files' content was not inspected (hashed from the origin's listing without download: a Hub LFS oid, an OCI layer digest; marked "inspected": false): extra/big.bin, model.safetensors (header only); aisc fetch inspects them as they land, aisc verify as it hashes them\n`;
const readLock = (dir: string) => JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: Record<string, { source: Record<string, unknown>; files: { path: string }[]; digest: string; kind: string; format?: Record<string, unknown> }> };

describe('aisc lock hf://: a Hub repo pinned to its commit, LFS files never downloaded', () => {
  it('resolves main to its commit, follows every tree page, takes LFS SHA-256s from the listing and checks small files against their git blob SHA-1', async () => {
    const { dir, env, hub } = await setup();
    const result = await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env);
    expect(result.stderr).toBe(NOTE_TINY);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`locked tiny (model) from ${hub.endpoint}/acme/tiny@${COMMIT_1} (main): 5 files`);
    const artifact = readLock(dir).artifacts.tiny;
    expect(artifact?.source).toEqual({ type: 'huggingface', repo: 'acme/tiny', repoType: 'model', revision: COMMIT_1, ref: 'main', endpoint: hub.endpoint });
    expect(artifact?.files).toEqual(expectedFiles(FILES_1));
    expect(artifact?.digest).toBe(computeRootDigest(expectedFiles(FILES_1)));
    // The tree's pages (2 entries each) were all read.
    expect(hub.requests.filter((r) => r.path.includes('/tree/')).length).toBeGreaterThan(3);
    // LFS bytes never downloaded: only the safetensors header, by Range; the 300 kB blob not at all.
    const cdn = hub.requests.filter((r) => r.server === 'cdn');
    expect(cdn.every((r) => r.headers.range !== undefined)).toBe(true);
    expect(cdn.some((r) => r.path.includes(sha256(Buffer.alloc(300_000, 7))))).toBe(false);
    expect(artifact?.format).toMatchObject({ weights: ['pickle', 'safetensors'], tensors: 1, parameters: 4096, dtypes: ['F32'] });
  });

  it('pins a tag, a refs/pr/N and a commit as asked; a dataset is a dataset', async () => {
    const { dir, env } = await setup();
    expect((await runAiscAsync(['lock', 'hf://acme/tiny@refs/pr/1', '--name', 'pr'], dir, env)).status).toBe(0);
    expect((await runAiscAsync(['lock', `hf://acme/tiny@${COMMIT_1}`, '--name', 'pinned'], dir, env)).status).toBe(0);
    const data = await runAiscAsync(['lock', 'hf://datasets/acme/corpus@v1'], dir, env);
    expect(data.stderr).toBe('');
    const lock = readLock(dir);
    expect(lock.artifacts.pr?.source).toMatchObject({ revision: COMMIT_2, ref: 'refs/pr/1' });
    expect(lock.artifacts.pinned?.source).toMatchObject({ revision: COMMIT_1, ref: COMMIT_1 });
    expect(lock.artifacts.corpus).toMatchObject({ kind: 'dataset', source: { repoType: 'dataset', ref: 'v1', revision: DATA_COMMIT } });
  });

  it('--include / --exclude select files as huggingface_hub patterns do, and are recorded', async () => {
    const { dir, env } = await setup();
    const result = await runAiscAsync(['lock', 'hf://acme/tiny', '--include', '*.json', '--include', '*.safetensors', '--exclude', 'tokenizer*'], dir, env);
    expect(withoutNote(result.stderr)).toBe('');
    const artifact = readLock(dir).artifacts.tiny;
    expect(artifact?.files.map((f) => f.path)).toEqual(['config.json', 'model.safetensors']);
    expect(artifact?.source).toMatchObject({ include: ['*.json', '*.safetensors'], exclude: ['tokenizer*'] });
  });

  it('refuses bytes that are not what the Hub lists (exit 1), and writes nothing', async () => {
    const { dir, env } = await setup({ tamper: { 'config.json': Buffer.from('{"hidden_size": 99}\n') } });
    const result = await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env);
    expect(result.status).toBe(1);
    expect(errorLines(result)).toEqual([expect.stringMatching(/^aisc: CONTENT_MISMATCH hf:\/\/acme\/tiny: config\.json: the bytes served are not what the listing says \(git blob [0-9a-f]{40}, listed [0-9a-f]{40}\)/)]);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
  });

  it.each([
    ['hf://acme/missing', {}, 'HUB_REPO_NOT_FOUND', /no such repository, or it is private \(set HF_TOKEN/],
    ['hf://acme/tiny@nope', {}, 'HUB_REVISION_NOT_FOUND', /has no revision "nope"/],
    ['hf://acme/gated', {}, 'HUB_AUTH_REQUIRED', /gated repository; set HF_TOKEN .*request it at http:\/\/127\.0\.0\.1:\d+\/acme\/gated/],
    ['hf://acme/gated', { HF_TOKEN: 'hf_other' }, 'HUB_ACCESS_DENIED', /this token's account has no access; request access at/],
    ['hf://datasets/acme/tiny', {}, 'HUB_REPO_NOT_FOUND', /no such repository/],
    ['hf://acme/tiny', { HF_HUB_OFFLINE: '1' }, 'HUB_OFFLINE', /HF_HUB_OFFLINE is set/],
    ['hf://acme', {}, 'USAGE', /expected hf:\/\/\[datasets\/\]org\/name\[@revision\]/],
  ])('%s %o: exit 2, %s', async (spec, extra, code, message) => {
    const { dir, env } = await setup();
    const result = await runAiscAsync(['lock', spec], dir, { ...env, ...extra });
    expect(result.status).toBe(2);
    const lines = errorLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^aisc: ${code} `));
    expect(lines[0]).toMatch(message);
  });

  it('a tree that lists both a file and a file under it (a and a/b) is refused when listed (HUB_RESPONSE_INVALID, exit 2)', async () => {
    hub = await startHub({ 'acme/clash': { type: 'model', refs: { main: COMMIT_1 }, commits: { [COMMIT_1]: [{ path: 'a', content: Buffer.from('x') }, { path: 'a/b', content: Buffer.from('y') }] } } });
    const dir = makeTempDir();
    const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: join(dir, 'c'), HF_HOME: join(dir, 'h'), HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_OFFLINE: '' };
    const result = await runAiscAsync(['lock', 'hf://acme/clash', '--kind', 'model'], dir, env);
    expect(result.status).toBe(2);
    expect(errorLines(result)).toEqual(['aisc: HUB_RESPONSE_INVALID hf://acme/clash@main: the tree lists "a" as a file and "a/b" under it; no checkout holds both']);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
  });

  it('a tree whose next page is a page already read is a loop, refused at once (HUB_RESPONSE_INVALID, exit 2)', async () => {
    // An empty page lists nothing twice: only the link itself tells the loop.
    hub = await startHub({ 'acme/tiny': { type: 'model', refs: { main: COMMIT_1 }, commits: { [COMMIT_1]: [] } } }, { loopLink: true });
    const dir = makeTempDir();
    const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: join(dir, 'c'), HF_HOME: join(dir, 'h'), HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_OFFLINE: '' };
    const started = Date.now();
    const result = await runAiscAsync(['lock', 'hf://acme/tiny', '--kind', 'model'], dir, env);
    expect(result.status).toBe(2);
    expect(errorLines(result)).toEqual([expect.stringMatching(/^aisc: HUB_RESPONSE_INVALID hf:\/\/acme\/tiny@main: the tree's page 2 link \(http:\/\/127\.0\.0\.1:\d+\/api\/models\/acme\/tiny\/tree\/1{40}\) leads back to page 1: a loop$/)]);
    expect(hub.requests.filter((r) => r.path.includes('/tree/'))).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);

  it('reads a gated repo with a token (HF_TOKEN, then the token file) and never sends it to the CDN', async () => {
    const { dir, env, hub } = await setup();
    writeFileSync(join(dir, 'token'), 'hf_good\n');
    const result = await runAiscAsync(['lock', 'hf://acme/gated'], dir, { ...env, HF_TOKEN_PATH: join(dir, 'token') });
    expect(withoutNote(result.stderr)).toBe('');
    expect(result.status).toBe(0);
    expect(hub.requests.filter((r) => r.server === 'hub').every((r) => r.headers.authorization === 'Bearer hf_good')).toBe(true);
    expect(hub.requests.filter((r) => r.server === 'cdn').length).toBeGreaterThan(0);
    expect(hub.requests.filter((r) => r.server === 'cdn').some((r) => r.headers.authorization !== undefined)).toBe(false);
  });

  it('waits as a 429 Retry-After asks, then succeeds', async () => {
    const { dir, env, hub } = await setup({ rateLimit: 1 });
    const started = Date.now();
    const result = await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env);
    expect(result.stderr).toBe(NOTE_TINY);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(hub.requests[0]?.path).toContain('/revision/main');
    expect(hub.requests[1]?.path).toContain('/revision/main');
  });

  it('policy sources: hf://acme/ admits the repo on the default Hub only; another org is refused before any request', async () => {
    const { dir, env, hub } = await setup();
    writeFileSync(join(dir, 'aisc.policy.yaml'), `version: 1\nrules:\n  - match: {kind: model}\n    require: {sources: ['hf://acme/']}\n`);
    // The kind given, the origin alone decides: not one request.
    const mirror = await runAiscAsync(['lock', 'hf://acme/tiny', '--kind', 'model'], dir, env);
    expect(mirror.status).toBe(1);
    expect(errorLines(mirror)[0]).toMatch(/POLICY_VIOLATION hf:\/\/acme\/tiny: .*allows sources hf:\/\/acme\/; locked from http:\/\/127\.0\.0\.1:\d+\/acme\/tiny .*nothing was read or downloaded/);
    expect(hub.requests).toHaveLength(0);
    // Without --kind, once the listing tells the kind: still before a file is downloaded.
    const listed = await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env);
    expect(listed.status).toBe(1);
    expect(errorLines(listed)[0]).toMatch(/POLICY_VIOLATION tiny: .*nothing was hashed/);
    expect(hub.requests.filter((r) => r.path.includes('/resolve/'))).toHaveLength(0);
    writeFileSync(join(dir, 'aisc.policy.yaml'), `version: 1\nrules:\n  - match: {kind: model}\n    require: {sources: ['${hub.endpoint}/acme/']}\n`);
    expect((await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env)).status).toBe(0);
  });
});

describe('aisc fetch: the Hugging Face cache layout, verified as it streams; verify offline', () => {
  it('fills blobs/, snapshots/<commit>/ and refs/ as huggingface_hub does; verify then passes offline and catches tampering', async () => {
    const { dir, cache, env, hub } = await setup();
    expect((await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env)).status).toBe(0);
    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.stderr).toBe('');
    expect(fetched.stdout).toMatch(/^fetched tiny: 5 files, .* \(5 downloaded, 0 already present and correct\) → .*snapshots\/1{40}\n$/);
    const repo = join(cache, 'models--acme--tiny');
    expect(readFileSync(join(repo, 'refs', 'main'), 'utf8')).toBe(COMMIT_1);
    const blobs = readdirSync(join(repo, 'blobs')).sort();
    const config = FILES_1[1] as HubFile;
    expect(blobs).toEqual([gitBlobSha1(config.content), gitBlobSha1(Buffer.from('# notes\n')), gitBlobSha1(Buffer.from('{"model": {"type": "BPE"}}\n')), sha256(weights), sha256(Buffer.alloc(300_000, 7))].sort());
    expect(readlinkSync(join(repo, 'snapshots', COMMIT_1, 'extra', 'notes.md'))).toBe(`../../../blobs/${gitBlobSha1(Buffer.from('# notes\n'))}`);
    expect(readlinkSync(join(repo, 'snapshots', COMMIT_1, 'model.safetensors'))).toBe(`../../blobs/${sha256(weights)}`);
    // The CDN never saw a token or the Hub's path; no partial file is left.
    expect(readdirSync(join(repo, 'blobs')).some((name) => name.includes('incomplete'))).toBe(false);

    await hub.close();
    const verified = await runAiscAsync(['verify'], dir, env);
    expect(verified.stdout).toContain('ok');
    expect(verified.status).toBe(0);
    // Again: everything is there and right, nothing is downloaded (the Hub is gone).
    const again = await runAiscAsync(['fetch'], dir, env);
    expect(again.stdout).toContain('(0 downloaded, 5 already present and correct)');

    writeFileSync(join(repo, 'blobs', sha256(Buffer.alloc(300_000, 7))), Buffer.alloc(300_000, 8));
    rmSync(join(repo, 'snapshots', COMMIT_1, 'config.json'));
    const tampered = await runAiscAsync(['verify'], dir, env);
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toMatch(/DIGEST_MISMATCH.*extra\/big\.bin/);
    expect(tampered.stdout).toMatch(/MISSING_FILE.*config\.json.*run aisc fetch tiny/);
  });

  it('follows snapshot links only into the repo\'s own blobs/', async () => {
    const { dir, cache, env } = await setup();
    expect((await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env)).status).toBe(0);
    expect((await runAiscAsync(['fetch', 'tiny'], dir, env)).status).toBe(0);
    const link = join(cache, 'models--acme--tiny', 'snapshots', COMMIT_1, 'config.json');
    rmSync(link);
    writeFileSync(join(dir, 'outside.json'), (FILES_1[1] as HubFile).content);
    const { symlinkSync } = await import('node:fs');
    symlinkSync(join(dir, 'outside.json'), link);
    const result = await runAiscAsync(['verify'], dir, env);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/SYMLINK_OUTSIDE_ROOT.*config\.json/);
  });

  it('a regular file in the snapshot folder (huggingface_hub writes one where links are not supported) is verified by its bytes, not called a link that leaves the root', async () => {
    const { dir, cache, env } = await setup();
    expect((await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env)).status).toBe(0);
    expect((await runAiscAsync(['fetch', 'tiny'], dir, env)).status).toBe(0);
    const path = join(cache, 'models--acme--tiny', 'snapshots', COMMIT_1, 'config.json');
    rmSync(path);
    writeFileSync(path, (FILES_1[1] as HubFile).content);
    const same = await runAiscAsync(['verify'], dir, env);
    expect(same.stdout).not.toContain('SYMLINK_OUTSIDE_ROOT');
    expect(same.status).toBe(0);
    writeFileSync(path, '{"hidden_size": 99}\n');
    const changed = await runAiscAsync(['verify'], dir, env);
    expect(changed.status).toBe(1);
    expect(changed.stdout).toMatch(/DIGEST_MISMATCH.*config\.json/);
    expect(changed.stdout).not.toContain('SYMLINK_OUTSIDE_ROOT');
  });

  it('resumes a partial download with Range, survives a dropped connection, and refuses a mirror serving other bytes (exit 1, nothing kept)', async () => {
    const { dir, cache, env, hub } = await setup({ truncateOnce: { 'extra/big.bin': 100_000 } });
    expect((await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env)).status).toBe(0);
    const blobs = join(cache, 'models--acme--tiny', 'blobs');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(blobs, { recursive: true });
    writeFileSync(join(blobs, `${sha256(weights)}.aisc.incomplete`), weights.subarray(0, 100));
    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.stderr).toBe('');
    expect(fetched.status).toBe(0);
    expect(hub.requests.some((r) => r.server === 'cdn' && r.headers.range === 'bytes=100-')).toBe(true);
    expect(hub.requests.some((r) => r.server === 'cdn' && r.headers.range === 'bytes=100000-')).toBe(true);
    expect(readFileSync(join(blobs, sha256(Buffer.alloc(300_000, 7)))).equals(Buffer.alloc(300_000, 7))).toBe(true);

    rmSync(join(cache), { recursive: true });
    hub.behaviour.tamper = { 'model.safetensors': Buffer.concat([weights.subarray(0, -1), Buffer.from([9])]) };
    const lied = await runAiscAsync(['fetch'], dir, env);
    expect(lied.status).toBe(1);
    expect(errorLines(lied)[0]).toMatch(/^aisc: CONTENT_MISMATCH tiny: model\.safetensors: the bytes served are not what is locked \(SHA-256 [0-9a-f]{64}, locked [0-9a-f]{64}\); nothing was kept$/);
    expect(readdirSync(blobs).filter((name) => name.startsWith(sha256(weights)))).toEqual([]);
    expect(existsSync(join(cache, 'models--acme--tiny', 'snapshots', COMMIT_1, 'model.safetensors'))).toBe(false);
  });
});

describe('an HF cache snapshot folder is a Hub repo at a commit', () => {
  it('aisc lock <snapshot> records the repo and commit with the digest that aisc lock hf:// gives', async () => {
    const { dir, cache, env } = await setup();
    expect((await runAiscAsync(['lock', 'hf://acme/tiny', '--lockfile', 'remote.lock.json'], dir, env)).status).toBe(0);
    expect((await runAiscAsync(['fetch', '--lockfile', 'remote.lock.json'], dir, env)).status).toBe(0);
    const snapshot = join(cache, 'models--acme--tiny', 'snapshots', COMMIT_1);
    expect(lstatSync(join(snapshot, 'config.json')).isSymbolicLink()).toBe(true);
    const result = await runAiscAsync(['lock', snapshot], dir, env);
    expect(result.stderr).toBe('');
    const artifact = readLock(dir).artifacts.tiny;
    expect(artifact?.source).toEqual({ type: 'huggingface', repo: 'acme/tiny', repoType: 'model', revision: COMMIT_1, ref: 'main' });
    expect(artifact?.digest).toBe(computeRootDigest(expectedFiles(FILES_1)));
    expect((await runAiscAsync(['verify'], dir, env)).status).toBe(0);
  });

  it('verify --artifact NAME=DIR checks a local_dir copy, ignoring its .cache/huggingface metadata', async () => {
    const { dir, env } = await setup();
    expect((await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env)).status).toBe(0);
    const { mkdirSync } = await import('node:fs');
    for (const file of FILES_1) {
      mkdirSync(join(dir, 'local', file.path, '..'), { recursive: true });
      writeFileSync(join(dir, 'local', file.path), file.content);
    }
    mkdirSync(join(dir, 'local', '.cache', 'huggingface', 'download'), { recursive: true });
    writeFileSync(join(dir, 'local', '.cache', 'huggingface', 'download', 'config.json.metadata'), 'x');
    const result = await runAiscAsync(['verify', '--artifact', `tiny=${join(dir, 'local')}`], dir, env);
    expect(result.stdout).not.toContain('EXTRA_FILE');
    expect(result.status).toBe(0);
  });
});

describe('aisc diff: a new Hub commit is its own change', () => {
  it('names both commits and links the new one', async () => {
    const { dir, env, hub } = await setup();
    expect((await runAiscAsync(['lock', 'hf://acme/tiny', '--lockfile', 'old.json'], dir, env)).status).toBe(0);
    expect((await runAiscAsync(['lock', 'hf://acme/tiny@v2', '--name', 'tiny', '--lockfile', 'new.json'], dir, env)).status).toBe(0);
    const diff = await runAiscAsync(['diff', 'old.json', 'new.json', '--format', 'json'], dir, env);
    const changes = (JSON.parse(diff.stdout) as { changes: { class: string; summary: string; from?: unknown; to?: unknown }[] }).changes;
    const moved = changes.find((c) => c.class === 'revision-changed');
    expect(moved?.summary).toBe(`${hub.endpoint}/acme/tiny: commit ${COMMIT_1.slice(0, 12)} (main) → ${COMMIT_2.slice(0, 12)} (v2); ${hub.endpoint}/acme/tiny/commit/${COMMIT_2}`);
    expect(moved?.from).toEqual({ revision: COMMIT_1, ref: 'main', url: `${hub.endpoint}/acme/tiny/commit/${COMMIT_1}` });
    expect(changes.some((c) => c.class === 'files-changed' || c.class === 'weights-changed' || c.class === 'tokenizer-changed')).toBe(true);
  });
});

describe('aisc fetch: the content gate where bytes land (Hub LFS files are not inspected at lock)', () => {
  const snapshotOf = (cache: string, repo: string) => join(cache, `models--acme--${repo}`, 'snapshots', COMMIT_1);
  const blobsOf = (cache: string, repo: string) => join(cache, `models--acme--${repo}`, 'blobs');

  it('lock says which files it did not inspect and marks them; fetch refuses the pickle that runs os.system (exit 1) and it lands nowhere', async () => {
    const { dir, cache, env } = await setup();
    const locked = await runAiscAsync(['lock', 'hf://acme/evil'], dir, env);
    expect(locked.status).toBe(0);
    expect(locked.stderr).toBe(`aisc: evil: 2 files' content was not inspected (hashed from the origin's listing without download: a Hub LFS oid, an OCI layer digest; marked "inspected": false): model.safetensors (header only), pytorch_model.bin; aisc fetch inspects them as they land, aisc verify as it hashes them\n`);
    expect(readLock(dir).artifacts.evil?.files).toEqual([
      { path: 'config.json', size: 20, sha256: sha256(Buffer.from('{"hidden_size": 64}\n')), format: 'json' },
      { path: 'model.safetensors', size: weights.length, sha256: sha256(weights), format: 'safetensors', inspected: false },
      { path: 'pytorch_model.bin', size: EVIL.length, sha256: sha256(EVIL), inspected: false },
    ]);

    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.status).toBe(1);
    expect(fetched.stdout).toBe('');
    expect(errorLines(fetched)).toEqual(['aisc: PICKLE_UNSAFE evil: pytorch_model.bin: a pickle imports posix.system, which can run code when it is loaded; not placed']);
    // Nothing of it: no blob, no partial file, no snapshot link; no ref announces the snapshot.
    const blobs = readdirSync(blobsOf(cache, 'evil'));
    expect(blobs.some((name) => name.startsWith(sha256(EVIL)))).toBe(false);
    expect(blobs.some((name) => name.includes('incomplete'))).toBe(false);
    expect(existsSync(join(snapshotOf(cache, 'evil'), 'pytorch_model.bin'))).toBe(false);
    expect(() => lstatSync(join(snapshotOf(cache, 'evil'), 'pytorch_model.bin'))).toThrow();
    expect(existsSync(join(cache, 'models--acme--evil', 'refs', 'main'))).toBe(false);
    // The files that pass land.
    expect(readFileSync(join(snapshotOf(cache, 'evil'), 'model.safetensors')).equals(weights)).toBe(true);
    expect(readFileSync(join(snapshotOf(cache, 'evil'), 'config.json'), 'utf8')).toBe('{"hidden_size": 64}\n');

    // Again: the same refusal, no partial download to resume.
    const again = await runAiscAsync(['fetch', 'evil'], dir, env);
    expect(again.status).toBe(1);
    expect(errorLines(again)).toEqual(['aisc: PICKLE_UNSAFE evil: pytorch_model.bin: a pickle imports posix.system, which can run code when it is loaded; not placed']);

    // Put in place by something else (huggingface_hub): named, not removed, exit 1.
    writeFileSync(join(blobsOf(cache, 'evil'), sha256(EVIL)), EVIL);
    const { symlinkSync } = await import('node:fs');
    symlinkSync(`../../blobs/${sha256(EVIL)}`, join(snapshotOf(cache, 'evil'), 'pytorch_model.bin'));
    const present = await runAiscAsync(['fetch', 'evil'], dir, env);
    expect(present.status).toBe(1);
    expect(errorLines(present)).toEqual([`aisc: PICKLE_UNSAFE evil: pytorch_model.bin: a pickle imports posix.system, which can run code when it is loaded; it was already at ${join(snapshotOf(cache, 'evil'), 'pytorch_model.bin')} before this fetch (aisc removes nothing it did not write: delete it)`]);
    // verify judges the same bytes the same way.
    const verified = await runAiscAsync(['verify'], dir, env);
    expect(verified.status).toBe(1);
    expect(verified.stdout).toMatch(/PICKLE_UNSAFE.*pytorch_model\.bin/);
  });

  it('the same pickle fetches (exit 0) where the policy allows its import, as lock would', async () => {
    const { dir, cache, env } = await setup();
    writeFileSync(join(dir, 'aisc.policy.yaml'), 'version: 1\nrules:\n  - match: { name: evil }\n    allow: { pickleImports: [posix.system] }\n');
    expect((await runAiscAsync(['lock', 'hf://acme/evil'], dir, env)).status).toBe(0);
    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.stderr).toBe('');
    expect(fetched.status).toBe(0);
    expect(fetched.stdout).toContain('fetched evil: 3 files');
    expect(readFileSync(join(snapshotOf(cache, 'evil'), 'pytorch_model.bin')).equals(EVIL)).toBe(true);
    // Another policy (--policy) without the exception refuses it again, though it is present.
    writeFileSync(join(dir, 'strict.yaml'), 'version: 1\n');
    const strict = await runAiscAsync(['fetch', '--policy', 'strict.yaml'], dir, env);
    expect(strict.status).toBe(1);
    expect(errorLines(strict)[0]).toMatch(/^aisc: PICKLE_UNSAFE evil: pytorch_model\.bin: .*posix\.system.*already at .* before this fetch/);
  });

  it('denyFormats: a benign pickle locked with --force is still refused at fetch (no --force there), with its kind POLICY_VIOLATION', async () => {
    const { dir, cache, env } = await setup();
    writeFileSync(join(dir, 'aisc.policy.yaml'), 'version: 1\nrules:\n  - match: { kind: model }\n    require: { denyFormats: [pickle] }\n');
    const refused = await runAiscAsync(['lock', 'hf://acme/torch'], dir, env);
    expect(refused.status).toBe(1);
    expect((await runAiscAsync(['lock', 'hf://acme/torch', '--force'], dir, env)).status).toBe(0);
    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.status).toBe(1);
    expect(errorLines(fetched)).toEqual(['aisc: POLICY_VIOLATION torch: pytorch_model.bin: rule 1 (kind model): denies pickle weights; the artifact has them (aisc.policy.yaml); not placed']);
    expect(existsSync(join(snapshotOf(cache, 'torch'), 'pytorch_model.bin'))).toBe(false);
    expect(existsSync(join(snapshotOf(cache, 'torch'), 'config.json'))).toBe(true);
    // Without the rule the same bytes are a state dict aisc allows: they land.
    rmSync(join(dir, 'aisc.policy.yaml'));
    expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
    expect(readFileSync(join(snapshotOf(cache, 'torch'), 'pytorch_model.bin')).equals(STATE_DICT)).toBe(true);
  });
});
