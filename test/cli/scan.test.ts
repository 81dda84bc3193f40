import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAisc } from '../helpers/cli.js';
import { evilPickle, op, pickle, stateDictPickle } from '../helpers/pickles.js';
import { makeTempDir } from '../helpers/temp.js';
import { writeZip } from '../helpers/zips.js';

const checkpoint = (dataPkl: Buffer) => writeZip([{ name: 'archive/data.pkl', data: dataPkl, descriptor: true }, { name: 'archive/data/0', data: Buffer.alloc(64, 1), descriptor: true }]);

function model(dir: string, files: Record<string, Buffer | string>): string {
  const root = join(dir, 'm');
  for (const [path, content] of Object.entries({ 'config.json': '{"hidden_size": 4}\n', ...files })) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('aisc scan', () => {
  it('exits 0 on clean files, 1 naming the file and the import, 2 for a path that is not there', () => {
    const dir = makeTempDir();
    model(dir, { 'pytorch_model.bin': checkpoint(stateDictPickle()) });
    const clean = runAisc(['scan', 'm'], dir);
    expect(clean.status).toBe(0);
    expect(clean.stdout).toContain('ok     m/pytorch_model.bin: pytorch-zip imports collections.OrderedDict');
    writeFileSync(join(dir, 'm', 'weights.dat'), evilPickle());
    const unsafe = runAisc(['scan', 'm', '--format', 'json'], dir);
    expect(unsafe.status).toBe(1);
    const report = JSON.parse(unsafe.stdout) as { files: { path: string; format: string; findings: { code: string; message: string }[] }[] };
    const dat = report.files.find((f) => f.path === 'm/weights.dat');
    expect(dat?.format).toBe('pickle');
    expect(dat?.findings.map((f) => f.code)).toEqual(['PICKLE_UNSAFE']);
    expect(dat?.findings[0]?.message).toContain('posix.system');
    expect(runAisc(['scan', 'nothing-here'], dir).status).toBe(2);
    expect(runAisc(['scan', 'm', '--format', 'xml'], dir).status).toBe(2);
  });
});

describe('the format gate in lock and verify', () => {
  it('refuses a pickle disguised as safetensors, or hidden by --ignore, writing nothing', () => {
    const dir = makeTempDir();
    model(dir, { 'model.safetensors': evilPickle() });
    const disguised = runAisc(['lock', 'm', '--kind', 'model'], dir);
    expect(disguised.status).toBe(1);
    expect(disguised.stderr).toMatch(/^aisc: PICKLE_UNSAFE m\/model\.safetensors: a pickle imports posix\.system/);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);

    const other = makeTempDir();
    model(other, { 'scratch/weights.dat': evilPickle() });
    const hidden = runAisc(['lock', 'm', '--kind', 'model', '--ignore', 'scratch'], other);
    expect(hidden.status).toBe(1);
    expect(hidden.stderr).toContain('left out by --ignore');
    expect(existsSync(join(other, 'aisc.lock.json'))).toBe(false);
  });

  it('locks a benign PyTorch checkpoint with its format, and verify re-derives it', () => {
    const dir = makeTempDir();
    model(dir, { 'pytorch_model.bin': checkpoint(stateDictPickle()) });
    expect(runAisc(['lock', 'm', '--kind', 'model', '--ignore', 'scratch'], dir).status).toBe(0);
    const lockfile = JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: { m: { files: { path: string; format: string }[]; format: unknown } } };
    expect(lockfile.artifacts.m.files.map((f) => [f.path, f.format])).toEqual([['config.json', 'json'], ['pytorch_model.bin', 'pytorch-zip']]);
    expect(lockfile.artifacts.m.format).toEqual({ weights: ['pickle', 'pytorch-zip'] });
    expect(runAisc(['verify'], dir).status).toBe(0);

    // A pickle dropped where the lock's ignore globs look away is still read by verify.
    model(dir, { 'scratch/x.pkl': evilPickle() });
    const afterDrop = runAisc(['verify', '--format', 'json'], dir);
    expect(afterDrop.status).toBe(1);
    expect(afterDrop.stdout).toContain('"code": "PICKLE_UNSAFE"');
  });

  it('reports a lockfile edited to call a pickle something else as FORMAT_CHANGED, and judges the bytes', () => {
    const dir = makeTempDir();
    model(dir, { 'weights.pkl': pickle(op.proto(2), op.global('sklearn.linear_model', 'LogisticRegression'), op.stop()) });
    writeFileSync(join(dir, 'aisc.policy.yaml'), 'version: 1\nrules:\n  - match: { name: m }\n    allow: { pickleImports: [sklearn.linear_model.LogisticRegression] }\n');
    expect(runAisc(['lock', 'm', '--kind', 'model'], dir).status).toBe(0);
    expect(runAisc(['verify'], dir).status).toBe(0);
    const path = join(dir, 'aisc.lock.json');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"format": "pickle"', '"format": "safetensors"'));
    const edited = runAisc(['verify'], dir);
    expect(edited.status).toBe(1);
    expect(edited.stdout).toContain('FORMAT_CHANGED weights.pkl: locked as safetensors, its bytes are pickle now');
    // Without the policy's allowance the same import is unsafe.
    writeFileSync(join(dir, 'aisc.policy.yaml'), 'version: 1\nrules: []\n');
    expect(runAisc(['verify'], dir).stdout).toContain('PICKLE_UNSAFE weights.pkl');
  });

  it('denyFormats: [pickle] denies a PyTorch checkpoint by its bytes, whatever its name', () => {
    const dir = makeTempDir();
    model(dir, { 'weights.dat': checkpoint(stateDictPickle()) });
    writeFileSync(join(dir, 'aisc.policy.yaml'), 'version: 1\nrules:\n  - require: { denyFormats: [pickle] }\n');
    const lock = runAisc(['lock', 'm', '--kind', 'model'], dir);
    expect(lock.status).toBe(1);
    expect(lock.stderr).toMatch(/^aisc: POLICY_VIOLATION m: rule 1 .*denies pickle/);
    expect(runAisc(['lock', 'm', '--kind', 'model', '--force'], dir).status).toBe(0);
    expect(runAisc(['verify'], dir).stdout).toContain('POLICY_FORMAT');
  });
});
