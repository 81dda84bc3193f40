import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCodePoints, toCanonicalJson } from '../../src/lockfile/canonical-json.js';

const jsonValue = fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown);

function codePoints(text: string): number[] {
  return [...text].map((c) => c.codePointAt(0) ?? 0);
}

function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, seed + 1));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  entries.sort(() => ((seed = (seed * 1103515245 + 12345) >>> 0) % 3) - 1);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: shuffleKeys(v, seed + 1), enumerable: true, writable: true, configurable: true });
  return out;
}

describe('toCanonicalJson', () => {
  it('round-trips every JSON value', () => {
    fc.assert(fc.property(jsonValue, (value) => {
      expect(JSON.parse(toCanonicalJson(value))).toEqual(value);
    }));
  });

  it('gives the same bytes whatever the key order', () => {
    fc.assert(fc.property(jsonValue, fc.integer(), (value, seed) => toCanonicalJson(shuffleKeys(value, seed)) === toCanonicalJson(value)));
  });

  it('is a fixed point: canonical text re-serializes to itself', () => {
    fc.assert(fc.property(jsonValue, (value) => {
      const text = toCanonicalJson(value);
      return toCanonicalJson(JSON.parse(text)) === text;
    }));
  });

  it('sorts keys by code point, integer-like keys included, with 2-space indent and a final newline', () => {
    expect(toCanonicalJson({ b: 1, '10': 2, '9': 3, a: [] })).toBe('{\n  "10": 2,\n  "9": 3,\n  "a": [],\n  "b": 1\n}\n');
  });

  it('refuses values JSON cannot hold', () => {
    expect(() => toCanonicalJson({ a: Number.NaN })).toThrow(TypeError);
    expect(() => toCanonicalJson({ a: () => 1 })).toThrow(TypeError);
  });
});

describe('compareCodePoints', () => {
  it('orders as the code point sequences do, unlike UTF-16 order', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
      const [x, y] = [codePoints(a), codePoints(b)];
      let expected = 0;
      for (let i = 0; i < Math.min(x.length, y.length) && expected === 0; i++) expected = Math.sign((x[i] ?? 0) - (y[i] ?? 0));
      if (expected === 0) expected = Math.sign(x.length - y.length);
      return Math.sign(compareCodePoints(a, b)) === expected;
    }));
    // U+FF5E sorts before U+1F600 by code point, after it in UTF-16.
    expect(compareCodePoints('\uff5e', '\u{1f600}')).toBeLessThan(0);
  });
});
