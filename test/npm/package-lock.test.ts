import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePackageLock } from '../../src/npm/package-lock.js';
import { classifyBump } from '../../src/npm/semver-class.js';

const lock = (packages: Record<string, object>, lockfileVersion = 3): string => JSON.stringify({ name: 'app', lockfileVersion, packages: { '': { name: 'app' }, ...packages } });

describe('parsePackageLock', () => {
  it("reads this project's own package-lock.json", () => {
    const text = readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8');
    const packages = parsePackageLock(text, 'package-lock.json');
    const names = packages.map((p) => p.name);
    expect(names).toContain('commander');
    expect(names).toContain('@sigstore/verify');
    const node = packages.find((p) => p.name === 'node');
    expect(node).toMatchObject({ dev: true, hasInstallScript: true, type: 'registry' });
    expect(packages.every((p) => p.integrity?.startsWith('sha512-'))).toBe(true);
  });

  it('resolves aliases, merges repeated installs, and tells source types apart', () => {
    const packages = parsePackageLock(
      lock({
        'node_modules/lodash-old': { name: 'lodash', version: '3.10.1', resolved: 'https://registry.npmjs.org/lodash/-/lodash-3.10.1.tgz', integrity: 'sha512-a' },
        'node_modules/a': { version: '1.0.0', integrity: 'sha512-b', dev: true },
        'node_modules/b/node_modules/a': { version: '1.0.0', integrity: 'sha512-b' },
        'node_modules/g': { version: '2.0.0', resolved: 'git+ssh://git@github.com/x/g.git#abc' },
        'node_modules/f': { version: '0.1.0', resolved: 'file:../f' },
        'node_modules/l': { resolved: 'packages/l', link: true },
        'node_modules/t': { version: '1.2.3', resolved: 'https://example.com/t.tgz', integrity: 'sha512-c' },
        'packages/l': { name: 'l', version: '9.9.9' },
      }),
      'package-lock.json',
    );
    expect(packages.map((p) => [p.name, p.version, p.type, p.dev, p.paths.length])).toEqual([
      ['a', '1.0.0', 'registry', false, 2],
      ['f', '0.1.0', 'file', false, 1],
      ['g', '2.0.0', 'git', false, 1],
      ['l', '0.0.0-link', 'link', false, 1],
      ['lodash', '3.10.1', 'registry', false, 1],
      ['t', '1.2.3', 'remote', false, 1],
    ]);
  });

  it('refuses lockfileVersion 1 with how to upgrade, and malformed locks', () => {
    expect(() => parsePackageLock(JSON.stringify({ lockfileVersion: 1, dependencies: {} }), 'p')).toThrow(expect.objectContaining({ code: 'NPM_LOCK_UNSUPPORTED', message: expect.stringContaining('--lockfile-version 3') as unknown }));
    expect(() => parsePackageLock('{"lockfileVersion": 3}', 'p')).toThrow(expect.objectContaining({ code: 'NPM_LOCK_INVALID' }));
    expect(() => parsePackageLock('{"lockfileVersion": 3, "packages": {}, "packages": {}}', 'p')).toThrow(expect.objectContaining({ code: 'NPM_LOCK_INVALID' }));
    expect(() => parsePackageLock(lock({ 'node_modules/x': {} }), 'p')).toThrow(expect.objectContaining({ code: 'NPM_LOCK_INVALID' }));
    expect(() => parsePackageLock(lock({ 'node_modules/x': { name: '../../etc/passwd', version: '1.0.0' } }), 'p')).toThrow('expected a package name, got "../../etc/passwd"');
    expect(() => parsePackageLock(lock({ 'node_modules/x': { version: '1.0.0 || evil' } }), 'p')).toThrow('expected a version, got "1.0.0 || evil"');
    expect(parsePackageLock(lock({ 'node_modules/JSONStream': { version: '1.3.5', integrity: 'sha512-x' } }), 'p')).toMatchObject([{ name: 'JSONStream' }]);
  });

  // Before: "packages": [] read as a lock of zero packages, and aisc lock recorded nothing, exit 0.
  it.each([
    ['an array of packages', '{"lockfileVersion": 3, "packages": []}', 'expected "packages" to be an object keyed by install path, got an array'],
    ['no project entry', '{"lockfileVersion": 3, "packages": {}}', 'expected "packages" to hold the project itself under ""'],
    ['a package that is not an object', '{"lockfileVersion": 3, "packages": {"": {}, "node_modules/x": "1.0.0"}}', 'packages["node_modules/x"]: expected an object, got a string'],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parsePackageLock(text, 'p')).toThrow(expect.objectContaining({ code: 'NPM_LOCK_INVALID', message: expect.stringContaining(message) as unknown }));
  });
});

describe('classifyBump', () => {
  it.each([
    ['1.2.3', '2.0.0', 'npm-major'],
    ['1.2.3', '1.3.0', 'npm-minor'],
    ['1.2.3', '1.2.4', 'npm-patch'],
    ['1.2.3-rc.1', '1.2.3-rc.2', 'npm-prerelease'],
    ['1.2.3', '1.2.2', 'npm-downgrade'],
    ['2.0.0', '1.9.9', 'npm-downgrade'],
    ['1.2.3', '1.2.3', undefined],
  ])('%s → %s is %s', (from, to, expected) => {
    expect(classifyBump(from, to)).toBe(expected);
  });
});
