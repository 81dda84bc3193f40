import { describe, expect, it } from 'vitest';
import { ContentInspector, judgeContent, type Inspection } from '../../src/formats/index.js';
import { evilPickle } from '../helpers/pickles.js';
import { benignStorages, legacyTar, legacyTarCases, tarOf } from '../helpers/torch-tars.js';

function inspect(bytes: Buffer, pieces = [1, 7, 512, 4096, 1 << 20]): Inspection {
  const results = pieces.map((size) => {
    const inspector = new ContentInspector(bytes.length, 'old.pt');
    for (let i = 0; i < bytes.length; i += size) inspector.feed(Buffer.from(bytes.subarray(i, i + size)));
    return inspector.end();
  });
  for (const result of results) expect(result).toEqual(results[0]);
  return results[0] as Inspection;
}

// The tensor classes legacy tars name in `tensors` (in aisc's allowlist too; a policy may name them as well).
const TENSOR_TYPES = new Set(['torch.FloatTensor', 'torch.HalfTensor']);
const judge = (bytes: Buffer) => judgeContent('old.pt', inspect(bytes), TENSOR_TYPES);
const codes = (bytes: Buffer) => [...new Set(judge(bytes).map((f) => f.code))].sort();
const cases = legacyTarCases(evilPickle());

describe("PyTorch's legacy tar: storages and tensors read as legacy_load reads them", () => {
  it('passes benign storages whose raw bytes read as opcodes (bfloat16 ones, NONE STOP, a GLOBAL)', () => {
    expect(inspect(cases.benign as Buffer).format).toBe('tar');
    expect(judge(cases.benign as Buffer)).toEqual([]);
  });

  it('walks the same bytes under another name from byte 0 as pickles and refuses them: the raw bytes read as opcodes', () => {
    const storages = Buffer.concat(benignStorages(evilPickle()));
    expect(codes(tarOf([['storages.dat', storages]]))).toEqual(['PICKLE_UNSAFE']);
    expect(codes(tarOf([['storages', storages]]))).toEqual([]);
  });

  it.each([
    ['evil-second-storage-args', ['PICKLE_UNDECIDABLE', 'PICKLE_UNSAFE']],
    ['evil-storage-views', ['PICKLE_UNSAFE']],
    ['evil-second-tensor-args', ['PICKLE_UNSAFE']],
    ['truncated-args-after-import', ['PICKLE_UNSAFE']],
    ['element-count-wraps-to-zero-bytes', ['PICKLE_UNDECIDABLE', 'PICKLE_UNSAFE']],
    ['frame-past-stop', ['PICKLE_UNDECIDABLE', 'PICKLE_UNSAFE']],
    ['negative-count', ['PICKLE_UNSAFE']],
  ])('%s: reaches the refused import that torch.load reaches', (name, expected) => {
    const findings = judge(cases[name] as Buffer);
    expect([...new Set(findings.map((f) => f.code))].sort()).toEqual(expected);
    expect(findings.find((f) => f.code === 'PICKLE_UNSAFE')?.message).toMatch(/ imports posix\.system, which can run code/);
  });

  it.each(['unknown-storage-type', 'count-of-unknown-type'])('%s: where torch reads next is unknown, PICKLE_UNDECIDABLE', (name) => {
    expect(codes(cases[name] as Buffer)).toEqual(['PICKLE_UNDECIDABLE']);
  });

  it.each(['truncated-storage', 'truncated-args-before-import', 'negative-element-count', 'count-not-an-int', 'args-of-two', 'args-type-a-string', 'tensor-negative-ndim'])(
    '%s: torch raises first, so nothing after it counts',
    (name) => {
      expect(judge(cases[name] as Buffer)).toEqual([]);
    },
  );

  it('judges only the top-level storages and tensors so: sys_info and pickle are pickles a loader reads', () => {
    const storages = Buffer.concat([...benignStorages(evilPickle())]);
    expect(codes(tarOf([['sys_info', evilPickle()], ['storages', storages]]))).toEqual(['PICKLE_UNSAFE']);
    expect(codes(tarOf([['pickle', evilPickle()], ['storages', storages]]))).toEqual(['PICKLE_UNSAFE']);
    expect(codes(tarOf([['old/storages', storages]]))).toEqual(['PICKLE_UNSAFE']);
    expect(codes(legacyTar(benignStorages(evilPickle())))).toEqual([]);
  });
});
