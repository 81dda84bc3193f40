import { execFileSync } from 'node:child_process';
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
  ['null for a lockfile', 'null', 'LOCKFILE_INVALID'],
  ['both files and a manifest', withFile(() => undefined).replace('"digest"', `"manifest": {"sha256": "${'d'.repeat(64)}", "files": 2000, "bytes": 100}, "digest"`), 'LOCKFILE_INVALID'],
  ['a manifest that is not there', withFile(() => undefined).replace(/"files": ?\[.*?\],/, `"manifest": {"sha256": "${'d'.repeat(64)}", "files": 2000, "bytes": 100},`), 'LOCKFILE_INVALID'],
  ['a huge version', '{"lockfileVersion": 1e300, "artifacts": {}}', 'LOCKFILE_VERSION_UNSUPPORTED'],
  ['absolute path', withFile((f) => (f.path = '/etc/shadow')), 'LOCKFILE_INVALID'],
];

describe('bad input: exit 2, coded lines, no stack trace, nothing modified', () => {
  it('verify refuses a FIFO named as the lockfile at once, with or without --cache (it never waits on it)', () => {
    const dir = makeTempDir();
    execFileSync('mkfifo', [join(dir, 'aisc.lock.json')]);
    for (const args of [['verify'], ['verify', '--cache', join(dir, 'cache')]]) {
      const result = runAisc(args, dir, {}, { timeoutMs: 20_000 });
      expect(result.status).toBe(2);
      expect(errorLines(result)).toEqual([expect.stringMatching(/^aisc: LOCKFILE_UNREADABLE aisc\.lock\.json: expected the lockfile to be a regular file/)]);
    }
  });

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

  it.each([
    ['null', 'aisc.lock.json: expected a JSON object, got null'],
    ['[]', 'aisc.lock.json: expected a JSON object, got an array'],
    ['{"lockfileVersion": 2, "artifacts": {}}', 'aisc.lock.json: lockfileVersion 2 is newer than this aisc reads (1); upgrade aisc'],
    ['{"lockfileVersion": 1e300, "artifacts": {}}', 'aisc.lock.json: lockfileVersion 1.000e+300 (absurdly large) is newer than this aisc reads (1); upgrade aisc'],
    ['{"lockfileVersion": 1e400, "artifacts": {}}', 'aisc.lock.json: expected lockfileVersion 1, got a number too large to represent'],
    ['{"lockfileVersion": "1", "artifacts": {}}', 'aisc.lock.json: expected lockfileVersion 1, got a string'],
  ])('says what the lockfile %s is', (content, message) => {
    const dir = makeTempDir();
    writeFileSync(join(dir, 'aisc.lock.json'), content);
    expect(errorLines(runAisc(['verify'], dir))).toEqual([expect.stringMatching(new RegExp(`^aisc: [A-Z_]+ ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`))]);
  });

  it('does not pass a lockfile that pins nothing: NOTHING_LOCKED, exit 1, unless --allow-empty', () => {
    const dir = makeTempDir();
    expect(runAisc(['init'], dir).status).toBe(0);
    const result = runAisc(['verify'], dir);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^FAIL aisc\.lock\.json: NOTHING_LOCKED: aisc\.lock\.json pins no artifact/m);
    expect(result.stdout).toMatch(/^FAILED: 1 finding in 0 of 0 artifacts, 0 files, 0 B \(aisc\.lock\.json\)$/m);
    const json = JSON.parse(runAisc(['verify', '--format', 'json'], dir).stdout) as { ok: boolean; findings: { code: string }[] };
    expect(json).toMatchObject({ ok: false, findings: [{ code: 'NOTHING_LOCKED' }] });
    const allowed = runAisc(['verify', '--allow-empty'], dir);
    expect(allowed.status).toBe(0);
    expect(allowed.stdout).toBe('verified 0 artifacts, 0 files, 0 B: all match aisc.lock.json\n');
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

  // Malformed artifact content is a finding about the artifact (exit 1), not bad usage.
  it('refuses a corrupt safetensors file at lock time with exit 1, writing nothing', () => {
    const dir = makeTempDir();
    const model = makeModel(dir);
    writeFileSync(join(model, 'model-00001-of-00002.safetensors'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x7b]));
    const result = runAisc(['lock', 'tiny', '--kind', 'model'], dir);
    expect(result.status).toBe(1);
    expect(errorLines(result)).toEqual([expect.stringMatching(/^aisc: FORMAT_INVALID tiny\/model-00001-of-00002\.safetensors: not a valid safetensors file: /)]);
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
    // An empty lockfile verifies nothing: that is a finding unless asked for.
    expect(runAisc(['verify'], dir).status).toBe(1);
    expect(runAisc(['verify', '--allow-empty'], dir).status).toBe(0);
  });
});
