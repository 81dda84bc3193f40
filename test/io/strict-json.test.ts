import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonStrict } from '../../src/io/strict-json.js';

describe('parseJsonStrict', () => {
  it('agrees with JSON.parse on every valid JSON text without duplicate keys', () => {
    fc.assert(fc.property(fc.json(), (text) => {
      expect(parseJsonStrict(text, 'x')).toEqual(JSON.parse(text));
    }));
  });

  it('rejects what JSON.parse rejects', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let ok = true;
        try {
          JSON.parse(text);
        } catch {
          ok = false;
        }
        if (ok) return true;
        expect(() => parseJsonStrict(text, 'x')).toThrow(expect.objectContaining({ code: 'JSON_INVALID' }));
        return true;
      }),
    );
  });

  it('rejects a duplicate key at any depth, with its line and column', () => {
    expect(() => parseJsonStrict('{"a": 1, "a": 2}', 'f.json')).toThrow(expect.objectContaining({ code: 'JSON_DUPLICATE_KEY', message: 'f.json:1:10: duplicate key "a"' }));
    expect(() => parseJsonStrict('{"x": [{"b": 1,\n "b": 1}]}', 'f.json')).toThrow(expect.objectContaining({ code: 'JSON_DUPLICATE_KEY' }));
  });

  it('keeps "__proto__" an own property and the prototype untouched', () => {
    const value = parseJsonStrict('{"__proto__": {"polluted": true}}', 'x') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('bounds nesting depth', () => {
    expect(() => parseJsonStrict('['.repeat(100) + ']'.repeat(100), 'x')).toThrow(expect.objectContaining({ code: 'JSON_INVALID' }));
  });
});
