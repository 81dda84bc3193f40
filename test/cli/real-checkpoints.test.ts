import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENIGN_CHECKPOINTS, CHECKPOINTS, listFiles, MALICIOUS_CHECKPOINTS } from '../helpers/checkpoints.js';
import { errorLines, runAisc } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/temp.js';

interface ScanReport {
  files: { path: string; format: string; findings: { code: string; message: string }[] }[];
}

/** The fixture folder without malicious/, copied to `dir`/checkpoints. */
function copyBenign(dir: string): string {
  const root = join(dir, 'checkpoints');
  cpSync(CHECKPOINTS, root, { recursive: true, filter: (source) => basename(source) !== 'malicious' });
  return root;
}

describe('aisc on real checkpoints (test/fixtures/checkpoints)', () => {
  it('scan passes every benign file, in place', () => {
    const tops = [...new Set(BENIGN_CHECKPOINTS.map((path) => path.split('/')[0] as string))];
    const result = runAisc(['scan', ...tops, '--format', 'json'], CHECKPOINTS);
    const report = JSON.parse(result.stdout) as ScanReport;
    expect(report.files.filter((f) => f.findings.length > 0)).toEqual([]);
    expect(report.files).toHaveLength(BENIGN_CHECKPOINTS.length);
    expect(result.status).toBe(0);
  });

  it('lock records a copy of the benign folder, and verify passes it', () => {
    const dir = makeTempDir();
    copyBenign(dir);
    const lock = runAisc(['lock', 'checkpoints', '--kind', 'model'], dir);
    expect(errorLines(lock)).toEqual([]);
    expect(lock.status).toBe(0);
    expect(listFiles(join(dir, 'checkpoints'))).toEqual(['README.md', ...BENIGN_CHECKPOINTS].sort());
    expect(runAisc(['verify'], dir).status).toBe(0);
  });

  it('scan exits 1 naming every malicious file as PICKLE_UNSAFE', () => {
    const result = runAisc(['scan', 'malicious', '--format', 'json'], CHECKPOINTS);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as ScanReport;
    const unsafe = report.files.filter((f) => f.findings.some((finding) => finding.code === 'PICKLE_UNSAFE')).map((f) => f.path);
    expect(unsafe).toEqual(MALICIOUS_CHECKPOINTS);
    const human = runAisc(['scan', 'malicious'], CHECKPOINTS);
    expect(human.status).toBe(1);
    for (const path of MALICIOUS_CHECKPOINTS) expect(human.stdout).toContain(`UNSAFE ${path}:`);
  });

  it.each(MALICIOUS_CHECKPOINTS)('lock refuses a folder holding %s among real checkpoints, writing no lockfile', (path) => {
    const dir = makeTempDir();
    const root = join(dir, 'm');
    mkdirSync(root);
    writeFileSync(join(root, 'config.json'), '{"hidden_size": 4}\n');
    cpSync(join(CHECKPOINTS, 'nn-zip', 'mlp-float32.pth'), join(root, 'mlp.bin'));
    cpSync(join(CHECKPOINTS, path), join(root, basename(path)));
    const lock = runAisc(['lock', 'm', '--kind', 'model'], dir);
    expect(lock.status).toBe(1);
    expect(errorLines(lock)).toContainEqual(expect.stringMatching(new RegExp(`^aisc: PICKLE_UNSAFE m/${basename(path).replace(/\./g, '\\.')}: `)));
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
  });
});
