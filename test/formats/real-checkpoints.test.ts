import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENIGN_CHECKPOINTS, CHECKPOINTS, judgeBytes, MALICIOUS_CHECKPOINTS } from '../helpers/checkpoints.js';

/** Piece sizes the bytes are fed in: the verdict must not depend on where chunks end. */
const PIECES = [1, 7, 4096, Infinity];

function judgeInEveryPiece(path: string) {
  const bytes = readFileSync(join(CHECKPOINTS, path));
  const verdicts = PIECES.map((size) => judgeBytes(bytes, path, Math.min(size, bytes.length)));
  for (const verdict of verdicts.slice(1)) expect(verdict).toEqual(verdicts[0]);
  return verdicts[0] ?? [];
}

describe('real checkpoints made by torch.save and np.save (test/fixtures/checkpoints)', () => {
  it('holds the corpus scripts/make-checkpoints.py writes', () => {
    expect(BENIGN_CHECKPOINTS.length).toBeGreaterThan(250);
    expect(MALICIOUS_CHECKPOINTS).toHaveLength(10);
  });

  // Each loads with torch.load(weights_only=True) or np.load, or reaches no import in CPython's unpickler.
  it.each(BENIGN_CHECKPOINTS)('passes %s', (path) => {
    expect(judgeInEveryPiece(path)).toEqual([]);
  });

  // Each reaches posix.system in CPython's unpickler; the script proves it with find_class.
  it.each(MALICIOUS_CHECKPOINTS)('refuses %s as importing posix.system', (path) => {
    const findings = judgeInEveryPiece(path);
    expect(findings).toContainEqual(expect.objectContaining({ code: 'PICKLE_UNSAFE', message: expect.stringMatching(/ imports (?:\S+, )*posix\.system, /) as unknown }));
    const codes = [...new Set(findings.map((f) => f.code))].sort();
    expect(codes).toEqual(path.endsWith('.safetensors') ? ['FORMAT_MISMATCH', 'PICKLE_UNSAFE'] : ['PICKLE_UNSAFE']);
  });
});
