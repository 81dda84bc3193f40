import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileArtifact, Source } from '../../src/lockfile/types.js';
import { getSources, Network, toIgnoreMatcher, toRecorded, type SourceContext } from '../../src/sources/index.js';
import { makeTempDir } from '../helpers/temp.js';

const COMMIT = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);

function context(dir: string, extra: Partial<SourceContext> = {}): SourceContext {
  return { lockfile: join(dir, 'aisc.lock.json'), ignore: toIgnoreMatcher([]), allowSymlinks: false, env: {}, ...extra };
}

function artifact(source: Source, files = [{ path: 'w.safetensors', size: 3, sha256: 'c'.repeat(64) }]): FileArtifact {
  return { kind: 'model', layout: 'directory', source, files, digest: '' };
}

describe('the source registry', () => {
  it('gives each spec to the kind that owns it, from its text alone', () => {
    const dir = makeTempDir();
    const snapshot = join(dir, 'hub', 'models--acme--tiny', 'snapshots', COMMIT);
    mkdirSync(snapshot, { recursive: true });
    writeFileSync(join(dir, 'm.tar.gz'), '');
    const specs = ['hf://datasets/acme/set@v1', 'https://example.com/w.safetensors', 'https://example.com/pack.tgz', join(dir, 'm.tar.gz'), snapshot, join(dir, 'models', 'x')];
    const sources = getSources(specs, context(dir), new Network({}));
    expect(sources.map((source) => source.origin)).toEqual(['hf://datasets/acme/set', 'https://example.com/w.safetensors', 'https://example.com/pack.tgz', 'm.tar.gz', 'hf://acme/tiny', 'models/x']);
    expect(sources.map((source) => [source.takesIgnore ?? false, source.keepsDownload ?? false, source.selects ?? false])).toEqual([
      [false, false, true],
      [false, true, false],
      [false, true, false],
      [false, false, false],
      [false, false, false],
      [true, false, false],
    ]);
  });

  it('holds every origin against the gate before any work, and reports every refusal at once', () => {
    const dir = makeTempDir();
    const allows = (origin: string): string | undefined => (origin.startsWith('hf://acme/') ? undefined : `not from acme (${origin})`);
    expect(() => getSources(['hf://acme/ok', 'hf://evil/a', 'https://example.com/b.bin'], context(dir), new Network({}), { allows, where: 'p.yaml' })).toThrow(
      expect.objectContaining({ code: 'POLICY_VIOLATION', message: 'hf://evil/a: not from acme (hf://evil/a) (p.yaml; nothing was read or downloaded; --force records it anyway, verify will still fail)', problems: ['https://example.com/b.bin: not from acme (https://example.com/b.bin)'] }),
    );
  });

  it('refuses flags that would do nothing for a kind', () => {
    const dir = makeTempDir();
    const net = new Network({});
    expect(() => getSources(['hf://acme/tiny'], context(dir, { keepAt: 'x' }), net)).toThrow('--path: for https:// sources; a Hub repo is kept in the Hugging Face cache (aisc fetch)');
    expect(() => getSources(['models/x'], context(dir, { keepAt: 'x' }), net)).toThrow('--path: for https:// and oci:// sources (where to keep the download, or lay an OCI artifact out)');
    expect(() => getSources(['hf://acme/tiny'], context(dir, { platform: 'linux/amd64' }), net)).toThrow('--platform: for oci:// sources, not hf://acme/tiny');
    expect(() => getSources(['models/x'], context(dir, { include: ['*.json'] }), net)).toThrow('--include/--exclude: for hf:// sources, not models/x');
  });

  it('tells verify where each recorded kind keeps its bytes, and fetch whether it can restore them', () => {
    const dir = makeTempDir();
    const lockfile = join(dir, 'aisc.lock.json');
    const env = { HF_HUB_CACHE: join(dir, 'cache') };
    const hub: Source = { type: 'huggingface', repo: 'acme/tiny', repoType: 'model', revision: COMMIT, ref: 'main', include: ['*.json'] };
    const local = toRecorded({ type: 'local', path: 'models/x' });
    expect(local.locate('x', artifact(local.source), lockfile, env)).toEqual({ mode: 'files', root: join(dir, 'models', 'x') });
    expect(local.unfetchable).toBeDefined();

    const recorded = toRecorded(hub);
    const copy = recorded.locate('tiny', artifact(hub), lockfile, env);
    expect(copy).toMatchObject({ mode: 'files', root: join(dir, 'cache', 'models--acme--tiny', 'snapshots', COMMIT) });
    expect(copy.mode === 'files' && copy.selected?.('config.json')).toBe(true);
    expect(copy.mode === 'files' && copy.selected?.('w.safetensors')).toBe(false);
    expect(recorded.unfetchable).toBeUndefined();
    expect(recorded.mounted().skip?.('.cache/huggingface')).toBe(true);

    const url = toRecorded({ type: 'url', url: 'https://example.com/w.bin' });
    expect(url.locate('w', artifact(url.source), lockfile, env)).toEqual({ mode: 'none', hint: 'locked from https://example.com/w.bin without --path; pass --artifact w=FILE' });
    expect(url.unfetchable).toMatch(/without --path/);
    const kept = toRecorded({ type: 'archive', url: 'https://example.com/p.tgz', path: 'p.tgz', sha256: 'd'.repeat(64), size: 9, compression: 'gzip' });
    expect(kept.locate('p', artifact(kept.source), lockfile, env)).toEqual({ mode: 'archive', path: join(dir, 'p.tgz'), sha256: 'd'.repeat(64), size: 9 });
    expect(kept.unfetchable).toBeUndefined();
    expect(toRecorded({ type: 'archive', path: 'p.tgz', sha256: 'd'.repeat(64), size: 9, compression: 'gzip' }).unfetchable).toMatch(/on disk/);
  });

  it('names a moved Hub commit as a revision change, and nothing else', () => {
    const before: Source = { type: 'huggingface', repo: 'acme/tiny', repoType: 'model', revision: COMMIT, ref: 'main' };
    const change = toRecorded(before).compare({ ...before, revision: OTHER, ref: 'v2' });
    expect(change).toEqual({
      summary: `hf://acme/tiny: commit ${COMMIT.slice(0, 12)} (main) → ${OTHER.slice(0, 12)} (v2); https://huggingface.co/acme/tiny/commit/${OTHER}`,
      from: { revision: COMMIT, ref: 'main', url: `https://huggingface.co/acme/tiny/commit/${COMMIT}` },
      to: { revision: OTHER, ref: 'v2', url: `https://huggingface.co/acme/tiny/commit/${OTHER}` },
    });
    expect(toRecorded(before).compare({ ...before, repo: 'acme/other', revision: OTHER })).toBeUndefined();
    expect(toRecorded(before).compare({ ...before, revision: OTHER, include: ['*.json'] })).toBeUndefined();
    expect(toRecorded({ type: 'url', url: 'https://example.com/a' }).compare({ type: 'url', url: 'https://example.com/b' })).toBeUndefined();
  });
});
