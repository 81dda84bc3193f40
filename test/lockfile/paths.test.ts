import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertSafeRelativePath, getPathProblem } from '../../src/lockfile/paths.js';

const safeSegment = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
const safePath = fc.array(safeSegment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('/'));

describe('getPathProblem', () => {
  it('accepts relative paths of safe segments', () => {
    fc.assert(fc.property(safePath, (path) => getPathProblem(path) === undefined));
  });

  it('rejects any path with a bad piece spliced in', () => {
    const bad = fc.constantFrom('..', '.', '', '\0', '\\', '\n');
    fc.assert(
      fc.property(fc.array(safeSegment, { minLength: 0, maxLength: 4 }), bad, fc.nat(), (parts, piece, at) => {
        const segments = [...parts];
        if (piece === '..' || piece === '.' || piece === '') segments.splice(at % (segments.length + 1), 0, piece);
        else segments.splice(at % (segments.length + 1), 0, `x${piece}y`);
        return getPathProblem(segments.join('/')) !== undefined;
      }),
    );
  });

  it('names the problem', () => {
    expect(getPathProblem('/etc/passwd')).toBe('is absolute');
    expect(getPathProblem('a/../../b')).toBe("has a '..' segment");
    expect(getPathProblem('a//b')).toBe('has an empty segment');
    expect(getPathProblem('a/')).toBe('has an empty segment');
    expect(getPathProblem('C:/x')).toBe('starts with a drive letter');
    expect(getPathProblem('a\\b')).toBe('contains a backslash');
    expect(getPathProblem('a\0b')).toBe('contains a NUL character');
    expect(getPathProblem('')).toBe('is empty');
    expect(getPathProblem('x'.repeat(5000))).toMatch(/longer than/);
  });

  it('throws a coded error', () => {
    expect(() => assertSafeRelativePath('../x', 'files[0]')).toThrow(expect.objectContaining({ code: 'PATH_INVALID' }));
  });
});
