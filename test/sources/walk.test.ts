import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getGlobProblem, toIgnoreMatcher } from '../../src/sources/ignore.js';
import { toLocalSource, toLockfileSkipper, fromLocalSource } from '../../src/sources/local.js';
import { walkTree } from '../../src/sources/walk.js';
import { makeTempDir } from '../helpers/temp.js';

describe('toIgnoreMatcher', () => {
  it('ignores the git files at the root only, by default', () => {
    const ignore = toIgnoreMatcher([]);
    expect(['.git', '.gitattributes', '.github', '.gitignore'].every(ignore)).toBe(true);
    expect(ignore('sub/.gitignore')).toBe(false);
    expect(ignore('model.safetensors')).toBe(false);
  });

  it('matches a glob without / against base names, one with / against the whole path', () => {
    const ignore = toIgnoreMatcher(['*.log', 'cache/**', 'tmp/']);
    expect(ignore('a.log')).toBe(true);
    expect(ignore('deep/down/b.log')).toBe(true);
    expect(ignore('cache/x/y')).toBe(true);
    expect(ignore('tmp')).toBe(true);
    expect(ignore('sub/cache/x')).toBe(false);
    expect(ignore('.hidden.log')).toBe(true);
  });

  it('refuses globs that would reach outside the root', () => {
    expect(getGlobProblem('/etc/*')).toMatch(/absolute/);
    expect(getGlobProblem('../x')).toMatch(/'\.\.'/);
    expect(getGlobProblem('a\\b')).toMatch(/backslash/);
    expect(getGlobProblem('')).toMatch(/empty/);
    expect(() => toIgnoreMatcher(['ok', '/bad'])).toThrow(expect.objectContaining({ code: 'GLOB_INVALID' }));
  });
});

describe('walkTree', () => {
  it('lists files with sizes, folders and symlinks, never following a link, in code-point order', () => {
    const root = makeTempDir();
    mkdirSync(join(root, 'b/c'), { recursive: true });
    writeFileSync(join(root, 'b/c/z.bin'), '12345');
    writeFileSync(join(root, 'a.txt'), '1');
    writeFileSync(join(root, 'B.txt'), '12');
    mkdirSync(join(root, 'skip'));
    writeFileSync(join(root, 'skip/x'), '');
    symlinkSync('/', join(root, 'rootlink'));
    symlinkSync('a.txt', join(root, 'alink'));
    const entries = walkTree(root, { ignore: toIgnoreMatcher(['skip']) });
    expect(entries).toEqual([
      { path: 'B.txt', type: 'file', size: 2 },
      { path: 'a.txt', type: 'file', size: 1 },
      { path: 'alink', type: 'symlink', target: 'file-inside', size: 1 },
      { path: 'b', type: 'folder' },
      { path: 'b/c', type: 'folder' },
      { path: 'b/c/z.bin', type: 'file', size: 5 },
      { path: 'rootlink', type: 'symlink', target: 'outside' },
    ]);
  });
});

describe('local sources', () => {
  it('records sources relative to the lockfile folder, with / separators', () => {
    const root = makeTempDir();
    expect(toLocalSource(join(root, 'models/m'), join(root, 'aisc.lock.json'))).toEqual({ type: 'local', path: 'models/m' });
    expect(toLocalSource(root, join(root, 'aisc.lock.json'))).toEqual({ type: 'local', path: '.' });
    expect(fromLocalSource({ type: 'local', path: 'models/m' }, join(root, 'aisc.lock.json'))).toBe(join(root, 'models/m'));
  });

  it('skips the lockfile and its sidecars when they live inside the artifact', () => {
    const root = makeTempDir();
    const skip = toLockfileSkipper(join(root, 'aisc.lock.json'), root);
    expect(skip('aisc.lock.json')).toBe(true);
    expect(skip('aisc.lock.json.lock')).toBe(true);
    expect(skip('.aisc.lock.json.123.abcd1234.tmp')).toBe(true);
    expect(skip('weights.bin')).toBe(false);
    expect(skip('sub/aisc.lock.json')).toBe(false);
  });
});
