import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeSafetensors } from '../../examples/make-example.js';
import { inferKind, getFileRole, getWeightFormat } from '../../src/formats/classify.js';
import { SafetensorsHeaderCapture, type SafetensorsCapture } from '../../src/formats/safetensors-capture.js';
import { readSafetensorsFacts, toSafetensorsFacts } from '../../src/formats/safetensors.js';
import { hashFiles } from '../../src/hashing/index.js';
import { makeTempDir } from '../helpers/temp.js';

function withHeader(header: unknown, dataBytes: number): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json, Buffer.alloc(dataBytes)]);
}

const FAILURES: [string, Buffer][] = [
  ['empty.safetensors', Buffer.alloc(0)],
  ['truncated-length.safetensors', Buffer.from([1, 2, 3])],
  ['header-longer-than-file.safetensors', Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d])],
  ['header-not-json.safetensors', withHeader('x', 0).fill(0x41, 8)],
  ['header-an-array.safetensors', withHeader([], 0)],
  ['unknown-dtype.safetensors', withHeader({ t: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, 1)],
  ['offsets-past-end.safetensors', withHeader({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8)],
  ['size-not-shape.safetensors', withHeader({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 8] } }, 8)],
  ['overlapping-tensors.safetensors', withHeader({ a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] }, b: { dtype: 'U8', shape: [4], data_offsets: [2, 6] } }, 6)],
  ['trailing-bytes.safetensors', withHeader({ a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] } }, 9)],
  ['negative-shape.safetensors', withHeader({ a: { dtype: 'U8', shape: [-4], data_offsets: [0, 4] } }, 4)],
  ['dtype-named-constructor.safetensors', withHeader({ a: { dtype: 'constructor', shape: [4], data_offsets: [0, 4] } }, 4)],
  ['dtype-named-proto.safetensors', withHeader({ a: { dtype: '__proto__', shape: [4], data_offsets: [0, 4] } }, 4)],
];

describe('readSafetensorsFacts', () => {
  it('reads tensor count, parameters and dtypes without loading tensors', () => {
    const path = join(makeTempDir(), 'ok.safetensors');
    writeFileSync(path, makeSafetensors({ a: { dtype: 'F32', shape: [3, 4] }, b: { dtype: 'BF16', shape: [5] } }));
    expect(readSafetensorsFacts(path, 'ok.safetensors')).toEqual({ tensors: 2, parameters: 17, dtypes: ['BF16', 'F32'] });
  });

  it.each(FAILURES)('rejects %s as FORMAT_INVALID', (name, bytes) => {
    const path = join(makeTempDir(), name);
    writeFileSync(path, bytes);
    expect(() => readSafetensorsFacts(path, name)).toThrow(expect.objectContaining({ code: 'FORMAT_INVALID' }));
  });
});

describe('safetensors facts from the hashed chunks', () => {
  const capture = (bytes: Buffer, cuts: number[]): SafetensorsCapture => {
    const headers = new SafetensorsHeaderCapture(bytes.length);
    let at = 0;
    for (const cut of [...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length]) {
      headers.feed(bytes.subarray(at, Math.max(at, cut)));
      at = Math.max(at, cut);
    }
    return headers.result();
  };

  it('captures the same header however the reads are cut', () => {
    const bytes = makeSafetensors({ a: { dtype: 'F32', shape: [3, 4] }, b: { dtype: 'BF16', shape: [5] } });
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
        expect(toSafetensorsFacts(capture(bytes, cuts), bytes.length, 'ok.safetensors')).toEqual({ tensors: 2, parameters: 17, dtypes: ['BF16', 'F32'] });
      }),
    );
  });

  it.each(FAILURES)('rejects %s as FORMAT_INVALID from the hashed bytes', (name, bytes) => {
    expect(() => toSafetensorsFacts(capture(bytes, [3, 9]), bytes.length, name)).toThrow(expect.objectContaining({ code: 'FORMAT_INVALID' }));
  });

  // Before: aisc lock hashed the file, then opened it again by path to read the header, so the
  // facts could come from other bytes than the ones locked.
  it('is what the hash worker returns with the digest, from one read', async () => {
    const dir = makeTempDir();
    const bytes = makeSafetensors({ a: { dtype: 'F16', shape: [8] } });
    writeFileSync(join(dir, 'm.safetensors'), bytes);
    const [result] = await hashFiles([{ path: 'm.safetensors', root: dir, followSymlinks: false, inspect: true }], { jobs: 1 });
    expect(result).toMatchObject({ ok: true, sha256: createHash('sha256').update(bytes).digest('hex') });
    if (!result?.ok) throw new Error('not hashed');
    expect(result.format).toBe('safetensors');
    expect(result.inspection).toEqual({ format: 'safetensors', facts: { tensors: 1, parameters: 8, dtypes: ['F16'] } });
  });
});

describe('file roles and kinds', () => {
  // Before: a file named weights.constructor found Object's constructor as its "format", and
  // aisc lock died with INTERNAL (exit 3) serialising it.
  it('reads extensions as data: .constructor or .__proto__ is no weight format', () => {
    for (const name of ['weights.constructor', 'x.__proto__', 'y.toString', 'z.hasOwnProperty']) {
      expect(getWeightFormat(name)).toBeUndefined();
      expect(getFileRole(name)).toBe('other');
    }
  });

  it('tells weights, tokenizer, config and data apart', () => {
    expect(getFileRole('model-00001-of-00002.safetensors')).toBe('weights');
    expect(getWeightFormat('pytorch_model.bin')).toBe('pickle');
    expect(getFileRole('sub/tokenizer.json')).toBe('tokenizer');
    expect(getFileRole('config.json')).toBe('config');
    expect(getFileRole('eval.jsonl')).toBe('data');
    expect(getFileRole('README.md')).toBe('other');
  });

  it('infers a kind only when the files say it', () => {
    expect(inferKind(['adapter_config.json', 'adapter_model.safetensors'])).toBe('adapter');
    expect(inferKind(['config.json', 'model.safetensors', 'tokenizer.json'])).toBe('model');
    expect(inferKind(['tokenizer.json', 'tokenizer_config.json'])).toBe('tokenizer');
    expect(inferKind(['eval.jsonl'])).toBe('dataset');
    expect(inferKind(['README.md'])).toBeUndefined();
  });
});
