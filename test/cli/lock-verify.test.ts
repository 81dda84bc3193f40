import { appendFileSync, chmodSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLines, runAisc } from '../helpers/cli.js';
import { makeModel } from '../helpers/model.js';
import { makeTempDir } from '../helpers/temp.js';

interface Finding {
  code: string;
  artifact: string;
  path?: string;
}

function lockedModel(): { dir: string; model: string } {
  const dir = makeTempDir();
  const model = makeModel(dir);
  const result = runAisc(['lock', 'tiny', '--kind', 'model'], dir);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return { dir, model };
}

function verifyJson(dir: string, args: string[] = []): { status: number | null; findings: Finding[]; report: { ok: boolean } } {
  const result = runAisc(['verify', '--format', 'json', ...args], dir);
  const report = JSON.parse(result.stdout) as { ok: boolean; artifacts: { findings: Finding[] }[] };
  return { status: result.status, report, findings: report.artifacts.flatMap((a) => a.findings) };
}

const SHARD = 'model-00001-of-00002.safetensors';

describe('aisc lock + verify on a model folder', () => {
  it('locks deterministically and verifies clean', () => {
    const { dir } = lockedModel();
    const first = readFileSync(join(dir, 'aisc.lock.json'), 'utf8');
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    expect(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')).toBe(first);
    const lockfile = JSON.parse(first) as { artifacts: { tiny: { files: { path: string }[]; format: unknown; source: unknown } } };
    expect(lockfile.artifacts.tiny.files.map((f) => f.path)).toEqual(['config.json', SHARD, 'model-00002-of-00002.safetensors', 'nested/deeper/notes.txt', 'tokenizer.json']);
    expect(lockfile.artifacts.tiny.format).toEqual({ weights: ['safetensors'], tensors: 2, parameters: 768, dtypes: ['F16', 'F32'] });
    expect(lockfile.artifacts.tiny.source).toEqual({ type: 'local', path: 'tiny' });
    const verified = runAisc(['verify'], dir);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toContain('verified 1 artifact, 5 files');
  });

  const tamperings: [string, (model: string) => void, string, string][] = [
    ['a flipped byte', (m) => {
      const p = join(m, SHARD);
      const b = readFileSync(p);
      b[b.length - 1] = (b[b.length - 1] ?? 0) ^ 1;
      writeFileSync(p, b);
    }, 'DIGEST_MISMATCH', SHARD],
    ['a truncated file', (m) => truncateSync(join(m, SHARD), 10), 'SIZE_MISMATCH', SHARD],
    ['appended bytes', (m) => appendFileSync(join(m, 'config.json'), ' '), 'SIZE_MISMATCH', 'config.json'],
    ['a deleted file', (m) => unlinkSync(join(m, 'tokenizer.json')), 'MISSING_FILE', 'tokenizer.json'],
    ['an added file', (m) => writeFileSync(join(m, 'nested', 'evil.pkl'), 'x'), 'EXTRA_FILE', 'nested/evil.pkl'],
    ['same size, other content', (m) => writeFileSync(join(m, 'config.json'), '{"hidden_size": 99}\n'), 'DIGEST_MISMATCH', 'config.json'],
    ['a symlink pointing outside', (m) => {
      unlinkSync(join(m, 'config.json'));
      symlinkSync('/etc/passwd', join(m, 'config.json'));
    }, 'SYMLINK_REFUSED', 'config.json'],
    ['a file turned into a folder', (m) => {
      unlinkSync(join(m, 'tokenizer.json'));
      mkdirSync(join(m, 'tokenizer.json'));
    }, 'NOT_A_FILE', 'tokenizer.json'],
    ['a folder on the path swapped for a symlink', (m) => {
      renameSync(join(m, 'nested'), join(m, '..', 'elsewhere'));
      symlinkSync(join(m, '..', 'elsewhere'), join(m, 'nested'));
    }, 'MISSING_FILE', 'nested/deeper/notes.txt'],
  ];

  it.each(tamperings)('catches %s with exit 1, naming the file', (_name, tamper, code, path) => {
    const { dir, model } = lockedModel();
    tamper(model);
    const { status, findings } = verifyJson(dir);
    expect(status).toBe(1);
    expect(findings).toContainEqual(expect.objectContaining({ code, artifact: 'tiny', path }));
    const human = runAisc(['verify'], dir);
    expect(human.status).toBe(1);
    expect(human.stdout).toContain(`${code} ${path}`);
  });

  it('catches a renamed file as missing plus extra', () => {
    const { dir, model } = lockedModel();
    renameSync(join(model, 'tokenizer.json'), join(model, 'tokenizer2.json'));
    const { status, findings } = verifyJson(dir);
    expect(status).toBe(1);
    expect(findings).toEqual(expect.arrayContaining([
      expect.objectContaining({ code: 'MISSING_FILE', path: 'tokenizer.json' }),
      expect.objectContaining({ code: 'EXTRA_FILE', path: 'tokenizer2.json' }),
    ]));
  });

  it('catches a digest edited in the lockfile', () => {
    const { dir } = lockedModel();
    const path = join(dir, 'aisc.lock.json');
    const lockfile = JSON.parse(readFileSync(path, 'utf8')) as { artifacts: { tiny: { files: { sha256: string }[]; digest: string } } };
    lockfile.artifacts.tiny.files[0]!.sha256 = 'f'.repeat(64);
    writeFileSync(path, JSON.stringify(lockfile));
    const { status, findings } = verifyJson(dir);
    expect(status).toBe(1);
    expect(findings).toEqual(expect.arrayContaining([
      expect.objectContaining({ code: 'DIGEST_MISMATCH', path: 'config.json' }),
      expect.objectContaining({ code: 'ROOT_DIGEST_MISMATCH' }),
    ]));
  });

  it('reports every finding in every artifact, not just the first', () => {
    const { dir, model } = lockedModel();
    makeModel(dir, 'other');
    expect(runAisc(['lock', 'other', '--kind', 'model'], dir).status).toBe(0);
    unlinkSync(join(model, 'tokenizer.json'));
    writeFileSync(join(model, 'config.json'), '{"hidden_size": 99}\n');
    writeFileSync(join(dir, 'other', 'extra.bin'), 'x');
    const { findings } = verifyJson(dir);
    expect(findings.map((f) => `${f.artifact}:${f.code}:${f.path ?? ''}`).sort()).toEqual([
      'other:EXTRA_FILE:extra.bin',
      'tiny:DIGEST_MISMATCH:config.json',
      'tiny:MISSING_FILE:tokenizer.json',
    ]);
  });

  it('verifies a copy mounted elsewhere with --artifact NAME=PATH', () => {
    const { dir, model } = lockedModel();
    const mount = join(makeTempDir(), 'mnt');
    renameSync(model, mount);
    expect(verifyJson(dir).status).toBe(1);
    const { status, report } = verifyJson(dir, ['--artifact', `tiny=${mount}`]);
    expect(status).toBe(0);
    expect(report.ok).toBe(true);
    const unknown = runAisc(['verify', '--artifact', `nope=${mount}`], dir);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^aisc: UNKNOWN_ARTIFACT /);
  });

  it('reports a missing artifact root', () => {
    const { dir, model } = lockedModel();
    rmSync(model, { recursive: true });
    expect(verifyJson(dir).findings).toContainEqual(expect.objectContaining({ code: 'ARTIFACT_MISSING', artifact: 'tiny' }));
  });

  it('reports an unreadable file', () => {
    if (process.getuid?.() === 0) return; // root reads everything: nothing to observe
    const { dir, model } = lockedModel();
    chmodSync(join(model, 'config.json'), 0);
    expect(verifyJson(dir).findings).toContainEqual(expect.objectContaining({ code: 'UNREADABLE_FILE', path: 'config.json' }));
  });
});

describe('ignores, symlinks and single files', () => {
  it('ignores .git and friends at the root, and recorded --ignore globs at verify', () => {
    const dir = makeTempDir();
    const model = makeModel(dir);
    mkdirSync(join(model, '.git'));
    writeFileSync(join(model, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(model, '.gitattributes'), '*.safetensors filter=lfs\n');
    writeFileSync(join(model, 'run.log'), 'log\n');
    expect(runAisc(['lock', 'tiny', '--kind', 'model', '--ignore', '*.log'], dir).status).toBe(0);
    const lockfile = JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: { tiny: { files: { path: string }[]; ignore: string[] } } };
    expect(lockfile.artifacts.tiny.ignore).toEqual(['*.log']);
    expect(lockfile.artifacts.tiny.files.map((f) => f.path)).not.toContain('run.log');
    writeFileSync(join(model, 'nested', 'another.log'), 'more\n');
    writeFileSync(join(model, '.git', 'index'), 'changed\n');
    expect(runAisc(['verify'], dir).status).toBe(0);
  });

  it('refuses symlinks at lock unless --allow-symlinks, and never outside the root', () => {
    const dir = makeTempDir();
    const model = makeModel(dir);
    symlinkSync('config.json', join(model, 'config-link.json'));
    const refused = runAisc(['lock', 'tiny', '--kind', 'model'], dir);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^aisc: SYMLINK_REFUSED .*config-link\.json/);
    expect(runAisc(['lock', 'tiny', '--kind', 'model', '--allow-symlinks'], dir).status).toBe(0);
    // Before: the flag was not recorded, so a plain verify refused the links it had locked.
    expect(JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8'))).toMatchObject({ artifacts: { tiny: { allowSymlinks: true } } });
    expect(runAisc(['verify'], dir).status).toBe(0);
    expect(runAisc(['verify', '--allow-symlinks'], dir).status).toBe(0);
    // Recorded links are followed inside the root only.
    unlinkSync(join(model, 'config-link.json'));
    symlinkSync('/etc/hostname', join(model, 'config-link.json'));
    expect(verifyJson(dir).findings.map((f) => f.code)).toEqual(['SYMLINK_OUTSIDE_ROOT']);
    unlinkSync(join(model, 'config-link.json'));
    symlinkSync('config.json', join(model, 'config-link.json'));
    symlinkSync('/etc/hostname', join(model, 'outside'));
    const outside = runAisc(['lock', 'tiny', '--kind', 'model', '--allow-symlinks'], dir);
    expect(outside.status).toBe(2);
    expect(outside.stderr).toMatch(/^aisc: SYMLINK_OUTSIDE_ROOT /);
  });

  it('records --allow-symlinks only where there were links: a folder locked without any still refuses new ones', () => {
    const dir = makeTempDir();
    const model = makeModel(dir);
    expect(runAisc(['lock', 'tiny', '--kind', 'model', '--allow-symlinks'], dir).status).toBe(0);
    expect(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')).not.toContain('allowSymlinks');
    unlinkSync(join(model, 'config.json'));
    symlinkSync('tokenizer.json', join(model, 'config.json'));
    expect(verifyJson(dir).findings.map((f) => f.code)).toEqual(['SYMLINK_REFUSED']);
  });

  // Before: readdir decoded the name to U+FFFD, so the file "did not exist": NOT_A_FILE.
  it('refuses a file name that is not UTF-8 as NAME_INVALID, and verify names it as an extra file', () => {
    const dir = makeTempDir();
    const model = makeModel(dir);
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    writeFileSync(Buffer.concat([Buffer.from(`${model}/`), Buffer.from([0x63, 0xff, 0x2e, 0x62, 0x69, 0x6e])]), 'x');
    const found = verifyJson(dir).findings;
    expect(found).toEqual([expect.objectContaining({ code: 'EXTRA_FILE', path: 'c\\xff.bin' })]);
    const refused = runAisc(['lock', 'tiny', '--kind', 'model'], dir);
    expect(refused.status).toBe(2);
    expect(errorLines(refused)).toEqual(['aisc: NAME_INVALID tiny: c\\xff.bin: the file name is not valid UTF-8, so no lockfile can record it; rename it or --ignore it']);
  });

  it('locks a single file under its base name and verifies it', () => {
    const dir = makeTempDir();
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'eval.jsonl'), '{"q": 1}\n');
    expect(runAisc(['lock', './data/eval.jsonl', '--kind', 'dataset', '--name', 'eval'], dir).status).toBe(0);
    const lockfile = JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: { eval: { layout: string; files: { path: string }[] } } };
    expect(lockfile.artifacts.eval.layout).toBe('file');
    expect(lockfile.artifacts.eval.files.map((f) => f.path)).toEqual(['eval.jsonl']);
    writeFileSync(join(dir, 'data', 'other.jsonl'), 'not part of it\n');
    expect(runAisc(['verify'], dir).status).toBe(0);
    writeFileSync(join(dir, 'data', 'eval.jsonl'), '{"q": 2}\n');
    expect(verifyJson(dir).findings).toContainEqual(expect.objectContaining({ code: 'DIGEST_MISMATCH', path: 'eval.jsonl' }));
    rmSync(join(dir, 'data', 'eval.jsonl'));
    mkdirSync(join(dir, 'data', 'eval.jsonl'));
    expect(verifyJson(dir).findings).toContainEqual(expect.objectContaining({ code: 'LAYOUT_CHANGED' }));
  });

  it('requires the base of --depends-on to be locked, and verify fails once it is gone', () => {
    const dir = makeTempDir();
    makeModel(dir, 'base');
    makeModel(dir, 'lora');
    const early = runAisc(['lock', 'lora', '--kind', 'adapter', '--depends-on', 'base'], dir);
    expect(early.status).toBe(2);
    expect(early.stderr).toMatch(/^aisc: UNKNOWN_DEPENDENCY /);
    expect(runAisc(['lock', 'base', '--kind', 'model'], dir).status).toBe(0);
    expect(runAisc(['lock', 'lora', '--kind', 'adapter', '--depends-on', 'base'], dir).status).toBe(0);
    const path = join(dir, 'aisc.lock.json');
    const lockfile = JSON.parse(readFileSync(path, 'utf8')) as { artifacts: Record<string, unknown> };
    delete lockfile.artifacts.base;
    writeFileSync(path, JSON.stringify(lockfile));
    expect(verifyJson(dir).findings).toContainEqual(expect.objectContaining({ code: 'DEPENDENCY_MISSING', artifact: 'lora' }));
  });

  it('infers the kind from the files, or asks for --kind', () => {
    const dir = makeTempDir();
    makeModel(dir);
    mkdirSync(join(dir, 'misc'));
    writeFileSync(join(dir, 'misc', 'README.md'), '# hi\n');
    expect(runAisc(['lock', 'tiny'], dir).stdout).toContain('locked tiny (model)');
    const unknown = runAisc(['lock', 'misc'], dir);
    expect(unknown.status).toBe(2);
    expect(errorLines(unknown)).toEqual([expect.stringMatching(/^aisc: KIND_REQUIRED /)]);
  });
});

describe('artifact names are data', () => {
  // Before: --name __proto__ printed "locked" and wrote nothing; constructor, toString and
  // hasOwnProperty locked but never verified (a plain object already "had" them).
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('locks, verifies and remaps --name %s', (name) => {
    const dir = makeTempDir();
    makeModel(dir);
    const locked = runAisc(['lock', 'tiny', '--kind', 'model', '--name', name], dir);
    expect(locked.status).toBe(0);
    const text = readFileSync(join(dir, 'aisc.lock.json'), 'utf8');
    expect(text).toContain(`"${name}": {`);
    expect(runAisc(['verify'], dir).status).toBe(0);
    renameSync(join(dir, 'tiny'), join(dir, 'moved'));
    expect(runAisc(['verify'], dir).status).toBe(1);
    expect(runAisc(['verify', '--artifact', `${name}=moved`], dir).status).toBe(0);
  });

  it.each([
    ['../x', /^aisc: NAME_INVALID --name: expected an artifact name, got "\.\.\/x", which /],
    ['a b', /^aisc: NAME_INVALID --name: /],
  ])('refuses --name %s with exit 2, without telling to pass --name', (name, line) => {
    const dir = makeTempDir();
    makeModel(dir);
    const result = runAisc(['lock', 'tiny', '--kind', 'model', '--name', name], dir);
    expect(result.status).toBe(2);
    expect(errorLines(result)).toEqual([expect.stringMatching(line)]);
    expect(result.stderr).not.toContain('pass --name');
  });

  it('asks for --name when the base name is not an artifact name', () => {
    const dir = makeTempDir();
    makeModel(dir, 'my model');
    const result = runAisc(['lock', 'my model', '--kind', 'model'], dir);
    expect(result.status).toBe(2);
    expect(errorLines(result)).toEqual([expect.stringMatching(/^aisc: NAME_INVALID my model: .*; pass --name$/)]);
  });
});
