import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLines, runAisc } from '../helpers/cli.js';
import { sampleLockfile } from '../helpers/lockfile.js';
import { makeModel } from '../helpers/model.js';
import { makeTempDir } from '../helpers/temp.js';

const withFile = (mutate: (file: { path: string }) => void): string => {
  const lockfile = sampleLockfile();
  mutate(lockfile.artifacts.tiny!.files[0]!);
  return JSON.stringify(lockfile);
};

const BAD_LOCKFILES: [string, string, string][] = [
  ['empty', '', 'LOCKFILE_EMPTY'],
  ['malformed JSON', '{"lockfileVersion": 1, "artifacts": {', 'JSON_INVALID'],
  ['unknown version', '{"lockfileVersion": 99, "artifacts": {}}', 'LOCKFILE_VERSION_UNSUPPORTED'],
  ['schema violation', '{"lockfileVersion": 1, "artifacts": {"x": {"kind": "model"}}}', 'LOCKFILE_INVALID'],
  ['duplicate names', '{"lockfileVersion": 1, "artifacts": {"x": {}, "x": {}}}', 'JSON_DUPLICATE_KEY'],
  ['path traversal', withFile((f) => (f.path = '../../../etc/shadow')), 'LOCKFILE_INVALID'],
  ['absolute path', withFile((f) => (f.path = '/etc/shadow')), 'LOCKFILE_INVALID'],
];

describe('bad input: exit 2, coded lines, no stack trace, nothing modified', () => {
  it.each(BAD_LOCKFILES)('verify rejects a lockfile with %s', (_name, content, code) => {
    const dir = makeTempDir();
    writeFileSync(join(dir, 'aisc.lock.json'), content);
    const result = runAisc(['verify'], dir);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    const lines = errorLines(result);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(new RegExp(`^aisc: ${code} aisc\\.lock\\.json`));
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it.each(BAD_LOCKFILES)('lock refuses to touch a lockfile with %s', (_name, content, code) => {
    const dir = makeTempDir();
    makeModel(dir);
    writeFileSync(join(dir, 'aisc.lock.json'), content);
    const result = runAisc(['lock', 'tiny', '--kind', 'model'], dir);
    expect(result.status).toBe(2);
    expect(errorLines(result)[0]).toMatch(new RegExp(`^aisc: ${code} `));
    expect(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')).toBe(content);
  });

  it('lists every schema problem, one coded line each', () => {
    const dir = makeTempDir();
    const lockfile = sampleLockfile() as unknown as { artifacts: { tiny: Record<string, unknown> } };
    lockfile.artifacts.tiny.kind = 'virus';
    lockfile.artifacts.tiny.digest = 'nope';
    writeFileSync(join(dir, 'aisc.lock.json'), JSON.stringify(lockfile));
    const lines = errorLines(runAisc(['verify'], dir));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((line) => line.startsWith('aisc: LOCKFILE_INVALID aisc.lock.json: /artifacts/tiny/'))).toBe(true);
  });

  it('names a missing lockfile', () => {
    const result = runAisc(['verify', '--lockfile', 'nowhere.json'], makeTempDir());
    expect(result.status).toBe(2);
    expect(errorLines(result)).toEqual([expect.stringMatching(/^aisc: LOCKFILE_NOT_FOUND nowhere\.json: /)]);
  });

  it.each([
    [['lock'], 'USAGE'],
    [['lock', 'x', '--kind', 'virus'], 'USAGE'],
    [['lock', 'x', '--jobs', '0'], 'USAGE'],
    [['verify', '--format', 'xml'], 'USAGE'],
    [['verify', '--artifact', 'nopath'], 'USAGE'],
    [['verify', '--bogus'], 'USAGE'],
    [['frobnicate'], 'USAGE'],
    [['lock', 'does-not-exist', '--kind', 'model'], 'SOURCE_NOT_FOUND'],
    [['lock', '.', '--kind', 'model', '--ignore', '/abs'], 'GLOB_INVALID'],
    [['lock', '.', '--kind', 'model', '--ignore', '../up'], 'GLOB_INVALID'],
  ])('aisc %j → exit 2 with %s', (args, code) => {
    const dir = makeTempDir();
    const result = runAisc(args, dir);
    expect(result.status).toBe(2);
    expect(errorLines(result)[0]).toMatch(new RegExp(`^aisc: ${code} `));
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
  });

  it('refuses a corrupt safetensors file at lock time, writing nothing', () => {
    const dir = makeTempDir();
    const model = makeModel(dir);
    writeFileSync(join(model, 'model-00001-of-00002.safetensors'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x7b]));
    const result = runAisc(['lock', 'tiny', '--kind', 'model'], dir);
    expect(result.status).toBe(2);
    expect(errorLines(result)).toEqual([expect.stringMatching(/^aisc: FORMAT_INVALID model-00001-of-00002\.safetensors: /)]);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
  });
});

describe('aisc init', () => {
  it('writes a starter policy and an empty lockfile, and keeps existing ones', () => {
    const dir = makeTempDir();
    const first = runAisc(['init'], dir);
    expect(first.status).toBe(0);
    expect(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')).toBe('{\n  "artifacts": {},\n  "lockfileVersion": 1\n}\n');
    expect(readFileSync(join(dir, 'aisc.policy.yaml'), 'utf8')).toContain('version: 1');
    writeFileSync(join(dir, 'aisc.lock.json'), '{"lockfileVersion": 1, "artifacts": {}}');
    const second = runAisc(['init'], dir);
    expect(second.status).toBe(0);
    expect(second.stderr).toContain('kept aisc.lock.json');
    expect(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')).toBe('{"lockfileVersion": 1, "artifacts": {}}');
    expect(runAisc(['verify'], dir).status).toBe(0);
  });
});
