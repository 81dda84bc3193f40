import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSafetensors } from '../../examples/make-example.js';
import { readTreeCache, toTreeCacheText } from '../../src/sources/hf-tree-cache.js';
import { toCachedRepo } from '../../src/sources/hf-cache.js';
import { errorLines, runAiscAsync } from '../helpers/cli.js';
import { gitBlobSha1, sha256, startHub, type HubFile, type HubRepo, type LoopbackHub } from '../helpers/hub-server.js';
import { makeTempDir } from '../helpers/temp.js';

/**
 * trees/<commit>.json as huggingface_hub (1.22+, src/huggingface_hub/_tree_cache.py) writes it:
 * json.dump({"format_version": 1, "files": {...}}, f, indent=1), paths sorted, ensure_ascii. The
 * expected text below is written out by hand from that source, not by the code under test.
 */

const COMMIT = '3'.repeat(40);
const WEIGHTS = makeSafetensors({ w: { dtype: 'F32', shape: [8, 8] } }, 1);
const FILES: HubFile[] = [
  { path: '.gitattributes', content: Buffer.from('*.safetensors filter=lfs diff=lfs merge=lfs -text\n') },
  { path: 'config.json', content: Buffer.from('{"hidden_size": 8}\n') },
  { path: 'données/é.txt', content: Buffer.from('bonjour\n') },
  { path: 'model.safetensors', content: WEIGHTS, lfs: true },
];
const pointer = (content: Buffer) => Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(content)}\nsize ${content.length}\n`);

function expectedText(files: HubFile[]): string {
  const [attributes, config, notes, model] = files as [HubFile, HubFile, HubFile, HubFile];
  return [
    '{',
    ' "format_version": 1,',
    ' "files": {',
    '  ".gitattributes": {',
    `   "size": ${attributes.content.length},`,
    `   "blob_id": "${gitBlobSha1(attributes.content)}"`,
    '  },',
    '  "config.json": {',
    `   "size": ${config.content.length},`,
    `   "blob_id": "${gitBlobSha1(config.content)}"`,
    '  },',
    '  "donn\\u00e9es/\\u00e9.txt": {',
    `   "size": ${notes.content.length},`,
    `   "blob_id": "${gitBlobSha1(notes.content)}"`,
    '  },',
    '  "model.safetensors": {',
    `   "size": ${model.content.length},`,
    `   "blob_id": "${gitBlobSha1(pointer(model.content))}",`,
    `   "lfs_sha256": "${sha256(model.content)}",`,
    `   "lfs_size": ${model.content.length}`,
    '  }',
    ' }',
    '}',
  ].join('\n');
}

let hub: LoopbackHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

async function setup(): Promise<{ dir: string; repo: string; tree: string; env: Record<string, string>; repos: Record<string, HubRepo> }> {
  const repos: Record<string, HubRepo> = { 'acme/tiny': { type: 'model', refs: { main: COMMIT }, commits: { [COMMIT]: FILES.map((file) => ({ ...file })) } } };
  hub = await startHub(repos);
  const dir = makeTempDir();
  const cache = join(dir, 'hf-cache');
  const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache, HF_HOME: join(dir, 'hf-home'), HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_OFFLINE: '' };
  const repo = join(cache, 'models--acme--tiny');
  return { dir, repo, tree: join(repo, 'trees', `${COMMIT}.json`), env, repos };
}

describe('aisc fetch writes trees/<commit>.json as huggingface_hub does', () => {
  it('the whole listing of the commit, byte for byte, even for a lockfile that selected files (huggingface_hub filters when it reads); it reads back', async () => {
    const { dir, repo, tree, env } = await setup();
    expect((await runAiscAsync(['lock', 'hf://acme/tiny', '--include', 'config.json', '--include', '*.safetensors'], dir, env)).status).toBe(0);
    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.stderr).toBe('');
    expect(fetched.status).toBe(0);
    expect(readFileSync(tree, 'utf8')).toBe(expectedText(FILES));
    const read = await readTreeCache(toCachedRepo(join(repo, '..'), 'model', 'acme/tiny'), COMMIT);
    expect([...(read?.keys() ?? [])]).toEqual(['.gitattributes', 'config.json', 'données/é.txt', 'model.safetensors']);
    expect(read?.get('model.safetensors')).toEqual({ size: WEIGHTS.length, blobId: gitBlobSha1(pointer(WEIGHTS)), lfsSha256: sha256(WEIGHTS), lfsSize: WEIGHTS.length });
    expect(toTreeCacheText(read ?? new Map())).toBe(expectedText(FILES));
    // The files not locked are listed, not fetched.
    expect(existsSync(join(repo, 'snapshots', COMMIT, 'données'))).toBe(false);
  });

  it('a tree file someone else planted that disagrees with the lockfile is replaced by the Hub\'s listing; one that agrees is left alone', async () => {
    const { dir, tree, env } = await setup();
    expect((await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env)).status).toBe(0);
    expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
    writeFileSync(tree, '{"format_version": 1, "files": {"config.json": {"size": 1, "blob_id": "x"}}}');
    expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
    expect(readFileSync(tree, 'utf8')).toBe(expectedText(FILES));
    const before = hub?.requests.length ?? 0;
    await hub?.close();
    hub = undefined;
    // The Hub gone: the cached listing agrees, nothing is asked for.
    expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
    expect(before).toBeGreaterThan(0);
  });

  it('a Hub whose listing of the commit disagrees with the lockfile is HUB_RESPONSE_INVALID (exit 2), and the tree file is not written', async () => {
    const { dir, tree, env, repos } = await setup();
    expect((await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env)).status).toBe(0);
    expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
    rmSync(tree);
    const files = repos['acme/tiny']?.commits[COMMIT] as HubFile[];
    files[1] = { path: 'config.json', content: Buffer.from('{"hidden_size": 9}\n') };
    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.status).toBe(2);
    expect(errorLines(fetched)).toEqual([`aisc: HUB_RESPONSE_INVALID tiny: the Hub's listing of ${COMMIT} disagrees with the lockfile: "config.json" has the git blob ${gitBlobSha1(Buffer.from('{"hidden_size": 9}\n'))} in it, the bytes locked are ${gitBlobSha1(Buffer.from('{"hidden_size": 8}\n'))}; trees/${COMMIT}.json was not written`]);
    expect(existsSync(tree)).toBe(false);
  });

  it('offline (HF_HUB_OFFLINE) nothing is listed and no tree file is written', async () => {
    const { dir, tree, env } = await setup();
    expect((await runAiscAsync(['lock', 'hf://acme/tiny'], dir, env)).status).toBe(0);
    expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
    rmSync(tree);
    const fetched = await runAiscAsync(['fetch'], dir, { ...env, HF_HUB_OFFLINE: '1' });
    expect(fetched.status).toBe(0);
    expect(existsSync(tree)).toBe(false);
  });
});
