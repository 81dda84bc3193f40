import { describe, expect, it } from 'vitest';
import { ContentInspector, judgeContent } from '../../src/formats/index.js';

const str = (text: string) => {
  const bytes = Buffer.from(text);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([length, bytes]);
};
const u32 = (n: number) => Buffer.from(new Uint32Array([n]).buffer);
const u64 = (n: number) => Buffer.from(new BigUint64Array([BigInt(n)]).buffer);

/** A GGUF v3 file: architecture, file type Q4_K_M, two Q4_K tensors (256×2 and 256×1). */
function gguf(options: { version?: number; alignment?: number; secondOffset?: number; type?: number; truncateData?: number } = {}): Buffer {
  const kv = [
    Buffer.concat([str('general.architecture'), u32(8), str('llama')]),
    Buffer.concat([str('general.file_type'), u32(4), u32(15)]),
    ...(options.alignment === undefined ? [] : [Buffer.concat([str('general.alignment'), u32(4), u32(options.alignment)])]),
  ];
  const type = options.type ?? 12;
  const tensors = [
    Buffer.concat([str('a.weight'), u32(2), u64(256), u64(2), u32(type), u64(0)]),
    Buffer.concat([str('b.weight'), u32(1), u64(256), u32(type), u64(options.secondOffset ?? 288)]),
  ];
  const header = Buffer.concat([Buffer.from('GGUF'), u32(options.version ?? 3), u64(2), u64(kv.length), ...kv, ...tensors]);
  const alignment = options.alignment ?? 32;
  const padding = Buffer.alloc((alignment - (header.length % alignment)) % alignment);
  return Buffer.concat([header, padding, Buffer.alloc(288 + 144 - (options.truncateData ?? 0), 1)]);
}

function inspect(bytes: Buffer) {
  const inspector = new ContentInspector(bytes.length);
  for (let i = 0; i < bytes.length; i += 100) inspector.feed(Buffer.from(bytes.subarray(i, i + 100)));
  return inspector.end();
}

describe('GGUF headers', () => {
  it('records tensors, parameters, types, architecture and quantization', () => {
    expect(inspect(gguf())).toEqual({ format: 'gguf', facts: { tensors: 2, parameters: 768, dtypes: ['Q4_K'], architecture: 'llama', quantization: 'Q4_K_M' } });
  });

  it.each([
    ['version 1', { version: 1 }],
    ['an alignment that is not a power of two', { alignment: 48 }],
    ['a tensor offset out of order', { secondOffset: 320 }],
    ['an unknown ggml type', { type: 4 }],
    ['tensor data past the end of the file', { truncateData: 10 }],
  ])('refuses %s as FORMAT_INVALID', (_name, options) => {
    expect(judgeContent('m.gguf', inspect(gguf(options))).map((f) => f.code)).toEqual(['FORMAT_INVALID']);
  });
});
