import { describe, expect, it } from 'vitest';
import { readInline, splitTableRow } from '../helpers/commonmark.js';
import { diffLockfiles, getChangeDigest } from '../../src/diff/diff.js';
import type { Artifact, FileArtifact, Lockfile } from '../../src/lockfile/types.js';
import { renderDiff } from '../../src/report/diff-report.js';

const hex = (c: string): string => c.repeat(64);

function artifact(files: Record<string, string>, extra: Partial<FileArtifact> = {}): FileArtifact {
  return {
    kind: 'model',
    layout: 'directory',
    source: { type: 'local', path: 'models/m' },
    files: Object.entries(files).map(([path, digest]) => ({ path, size: 10, sha256: hex(digest) })),
    digest: hex(Object.values(files).join('').slice(0, 1) || '0'),
    ...extra,
  };
}

const lockfile = (artifacts: Record<string, Artifact>): Lockfile => ({ lockfileVersion: 1, artifacts: new Map(Object.entries(artifacts)) });

describe('diffLockfiles', () => {
  it('tells weights, tokenizer, config and other files apart, per artifact', () => {
    const base = lockfile({ m: artifact({ 'model.safetensors': 'a', 'tokenizer.json': 'b', 'config.json': 'c', 'README.md': 'd' }) });
    const next = lockfile({ m: artifact({ 'model.safetensors': 'e', 'tokenizer.json': 'b', 'config.json': 'f', 'NOTES.md': 'g' }) });
    const { changes } = diffLockfiles(base, next);
    expect(changes.map((c) => [c.class, c.files?.map((f) => `${f.change} ${f.path}`)])).toEqual([
      ['files-changed', ['added NOTES.md', 'removed README.md', 'modified config.json']],
      ['weights-changed', ['modified model.safetensors']],
    ]);
  });

  it('reports added, removed and renamed artifacts, and source, signer, kind and dependency changes', () => {
    const signer = { kind: 'key' as const, keyFingerprint: hex('1'), publicKey: '-----BEGIN PUBLIC KEY-----' };
    const base = lockfile({
      old: artifact({ 'w.gguf': '1' }, { digest: hex('9') }),
      gone: artifact({ 'w.gguf': '2' }, { digest: hex('8') }),
      kept: artifact({ 'w.gguf': '3' }, { signature: { bundle: 'b', bundleSha256: hex('2'), format: 'model-signing', signer } }),
      lora: artifact({ 'a.safetensors': '4' }, { kind: 'adapter', dependsOn: ['old'] }),
    });
    const next = lockfile({
      renamed: artifact({ 'w.gguf': '1' }, { digest: hex('9') }),
      fresh: artifact({ 'w.gguf': '5' }, { digest: hex('7'), kind: 'dataset' }),
      kept: artifact({ 'w.gguf': '3' }, { source: { type: 'local', path: 'elsewhere' } }),
      lora: artifact({ 'a.safetensors': '4' }, { kind: 'model', dependsOn: ['renamed'] }),
    });
    const { changes } = diffLockfiles(base, next);
    expect(changes.map((c) => `${c.class} ${c.artifact ?? ''} ${c.kind ?? ''}`)).toEqual([
      'artifact-added fresh dataset',
      'artifact-removed gone model',
      'signer-changed kept model',
      'source-changed kept model',
      'artifact-added lora model',
      'artifact-removed lora adapter',
      'dependency-changed lora model',
      'artifact-renamed renamed model',
    ]);
    expect(changes.find((c) => c.class === 'artifact-renamed')).toMatchObject({ from: 'old', to: 'renamed' });
  });

  it('digests the change list canonically, and renders it for people and machines', () => {
    const base = lockfile({ m: artifact({ 'model.safetensors': 'a' }) });
    const next = lockfile({ m: artifact({ 'model.safetensors': 'b' }) });
    const diff = diffLockfiles(base, next, { policyChanged: { from: hex('3'), to: hex('4') } });
    expect(diff.changeDigest).toBe(getChangeDigest(JSON.parse(JSON.stringify(diff.changes)) as typeof diff.changes));
    expect(diffLockfiles(base, base).changes).toEqual([]);
    const json = JSON.parse(renderDiff(diff, 'json', { base: 'a', next: 'b' })) as { changeDigest: string; changes: { class: string }[] };
    expect(json.changeDigest).toBe(diff.changeDigest);
    expect(json.changes.map((c) => c.class)).toEqual(['policy-changed', 'weights-changed']);
    const markdown = renderDiff(diff, 'markdown', { base: 'a', next: 'b' });
    expect(markdown).toContain('| `weights-changed` | m | model | weights\\: 1 modified |');
    expect(markdown).toContain('<details>');
    expect(markdown).toContain('- modified `model.safetensors` ');
    expect(renderDiff(diff, 'human', { base: 'a', next: 'b' })).toContain('~ model.safetensors');
  });

  it('renders markdown for a pull request that no file or artifact name can add links, HTML or code spans to', () => {
    const names = ['[approve this PR](https:evil.example).txt', '<img src=x onerror=alert(1)>', 'a`b``c.bin', '**bold**|x.txt'];
    const base = lockfile({ 'www.evil.example': artifact({ 'model.safetensors': 'a' }) });
    const next = lockfile({ 'www.evil.example': artifact({ 'model.safetensors': 'a', ...Object.fromEntries(names.map((name) => [name, 'b'])) }) });
    const markdown = renderDiff(diffLockfiles(base, next), 'markdown', { base: 'a', next: 'b' });
    const row = markdown.split('\n').find((line) => line.startsWith('| `files-changed`')) ?? '';
    const cells = splitTableRow(row).map((cell) => readInline(cell));
    expect(cells.slice(0, 2)).toEqual([{ text: 'files-changed', active: [] }, { text: 'www.evil.example', active: [] }]);
    expect(cells[3]?.active).toEqual([]);
    const items = markdown.split('\n').filter((line) => line.startsWith('- added '));
    expect(items.map((line) => readInline(/^- added (`+ ?.*? ?`+) \(/.exec(line)?.[1] ?? '').text).sort()).toEqual([...names].sort());
  });
});
