import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLines, runAisc, runGit } from '../helpers/cli.js';
import { makeDataset } from '../helpers/dataset.js';
import { makeModel } from '../helpers/model.js';
import { makeTempDir } from '../helpers/temp.js';

interface Locked {
  artifacts: Record<string, { files?: unknown[]; manifest?: { sha256: string; files: number; bytes: number } }>;
}

const readLock = (dir: string, file = 'aisc.lock.json'): Locked => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Locked;

describe('artifacts with many files keep their file list in a manifest', () => {
  it('locks, verifies, diffs and refuses a changed or missing manifest', () => {
    const dir = makeTempDir();
    makeDataset(dir, 2500);
    expect(runAisc(['lock', 'data', '--kind', 'dataset'], dir).status).toBe(0);
    const { manifest, files } = readLock(dir).artifacts.data ?? {};
    expect(files).toBeUndefined();
    expect(manifest).toMatchObject({ files: 2500 });
    const manifestPath = join(dir, '.aisc', 'manifests', `${manifest?.sha256 ?? ''}.txt`);
    expect(readFileSync(manifestPath).length).toBe(manifest?.bytes);
    expect(runAisc(['verify'], dir).stdout).toContain('verified 1 artifact, 2500 files');

    // Another artifact locked later leaves the manifest artifact as it was.
    copyFileSync(join(dir, 'aisc.lock.json'), join(dir, 'base.lock.json'));
    makeModel(dir);
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    expect(readLock(dir).artifacts.data).toEqual(readLock(dir, 'base.lock.json').artifacts.data);

    // One file changed: verify names it; the diff after a re-lock names it too.
    writeFileSync(join(dir, 'data', 'shard-0001', 'sample-0001234.json'), '{"i":"poisoned"}\n');
    const failed = JSON.parse(runAisc(['verify', '--format', 'json'], dir).stdout) as { artifacts: { findings: { code: string; path: string }[] }[] };
    expect(failed.artifacts.flatMap((a) => a.findings)).toEqual([expect.objectContaining({ code: 'SIZE_MISMATCH', path: 'shard-0001/sample-0001234.json' })]);
    expect(runAisc(['lock', 'data', '--kind', 'dataset'], dir).status).toBe(0);
    const diff = runAisc(['diff', 'base.lock.json', 'aisc.lock.json', '--format', 'json'], dir);
    expect(diff.status).toBe(0);
    expect(diff.stdout).toContain('shard-0001/sample-0001234.json');
    expect(readdirSync(join(dir, '.aisc', 'manifests'))).toHaveLength(2);

    // The manifest is the lockfile's: edited or gone, the lockfile is unusable (exit 2).
    const current = join(dir, '.aisc', 'manifests', `${readLock(dir).artifacts.data?.manifest?.sha256 ?? ''}.txt`);
    const text = readFileSync(current, 'utf8');
    writeFileSync(current, text.replace(/^[0-9a-f]{64}/m, (sha) => `${sha.slice(0, 63)}${sha.endsWith('0') ? '1' : '0'}`));
    const edited = runAisc(['verify'], dir);
    expect(edited.status).toBe(2);
    expect(errorLines(edited)).toEqual([expect.stringMatching(/^aisc: LOCKFILE_INVALID aisc\.lock\.json: \/artifacts\/data: its manifest \.aisc\/manifests\/[0-9a-f]{64}\.txt is not the one pinned/)]);
    rmSync(current);
    expect(errorLines(runAisc(['verify'], dir))).toEqual([expect.stringMatching(/its manifest .* is missing \(commit \.aisc\/manifests with the lockfile\)$/)]);
  });

  it('keeps its manifest out of the artifact when the lockfile lives inside it', () => {
    const dir = makeTempDir();
    const data = makeDataset(dir, 1200);
    expect(runAisc(['lock', '.', '--kind', 'dataset', '--name', 'data'], data).status).toBe(0);
    expect(readdirSync(join(data, '.aisc', 'manifests'))).toHaveLength(1);
    const verified = runAisc(['verify'], data);
    expect(verified.stdout).toContain('verified 1 artifact, 1200 files');
    expect(verified.status).toBe(0);
  });

  it('reads the base manifest from git for verify --base git:REF', () => {
    const dir = makeTempDir();
    makeDataset(dir, 1500);
    runGit(dir, 'init', '-q', '-b', 'main');
    expect(runAisc(['lock', 'data', '--kind', 'dataset'], dir).status).toBe(0);
    runGit(dir, 'add', '-A');
    runGit(dir, 'commit', '-qm', 'base');
    writeFileSync(join(dir, 'data', 'shard-0000', 'sample-0000007.json'), '{"i":7,"x":1}\n');
    expect(runAisc(['lock', 'data', '--kind', 'dataset'], dir).status).toBe(0);
    const diff = runAisc(['diff', '--base', 'git:main'], dir);
    expect(diff.status, diff.stderr).toBe(0);
    expect(diff.stdout).toContain('shard-0000/sample-0000007.json');
  });
});
