import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isUnderSource } from '../../src/policy/source-match.js';

describe('isUnderSource: whole segments and exact origins, never string prefixes', () => {
  it.each([
    ['data/x', './data', true],
    ['data', './data/', true],
    ['./data/sub/x', 'data', true],
    ['data-evil/x', './data', false],
    ['database', 'data', false],
    ['data/../secret', 'data', false],
    ['../data/x', 'data', false],
    ['/mnt/models/a', '/mnt/models', true],
    ['/mnt/models-evil/a', '/mnt/models', false],
    ['mnt/models/a', '/mnt/models', false],
    ['anything/at/all', './', true],
    ['https://registry.example/a/-/a-1.0.0.tgz', 'https://registry.example', true],
    ['https://registry.example/a/-/a-1.0.0.tgz', 'https://registry.example/', true],
    ['https://registry.example.evil.test/a/-/a-1.0.0.tgz', 'https://registry.example', false],
    ['https://registry.example:8443/a.tgz', 'https://registry.example', false],
    ['http://registry.example/a.tgz', 'https://registry.example', false],
    ['https://registry.example@evil.test/a.tgz', 'https://registry.example', false],
    ['https://REGISTRY.example/npm/a.tgz', 'https://registry.example/npm/', true],
    ['https://registry.example/npm-evil/a.tgz', 'https://registry.example/npm', false],
    ['https://registry.example/a.tgz', 'registry.example', false],
    ['registry.example/a.tgz', 'https://registry.example', false],
  ])('%s under %s: %s', (source, allowed, expected) => {
    expect(isUnderSource(source, allowed)).toBe(expected);
  });

  it('never admits a sibling whose name merely starts with the allowed one', () => {
    const segment = fc.stringMatching(/^[a-z0-9]{1,8}$/);
    fc.assert(
      fc.property(segment, segment, fc.array(segment, { maxLength: 3 }), (allowed, suffix, rest) => {
        const sibling = [`${allowed}${suffix}`, ...rest].join('/');
        expect(isUnderSource(sibling, `./${allowed}`)).toBe(false);
        expect(isUnderSource(`https://${allowed}${suffix}.test/x`, `https://${allowed}`)).toBe(false);
        expect(isUnderSource([allowed, ...rest].join('/'), `./${allowed}`)).toBe(true);
      }),
    );
  });
});
