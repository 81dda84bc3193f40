import type { WeightFacts } from './inspection.js';

/** GGUF header and tensor infos are read from the bytes hashed, up to this many. */
export const MAX_GGUF_HEADER_BYTES = 64 * 1024 * 1024;
const MAX_TENSORS = 1_000_000;
const MAX_KVS = 1_000_000;
const MAX_STRING = 16 * 1024 * 1024;
const MAX_ARRAY = 64 * 1024 * 1024;
const MAX_DIMS = 4;

/** ggml types by their GGUF number: name, elements per block, bytes per block. */
const GGML_TYPES = new Map<number, [string, number, number]>([
  [0, ['F32', 1, 4]], [1, ['F16', 1, 2]], [2, ['Q4_0', 32, 18]], [3, ['Q4_1', 32, 20]],
  [6, ['Q5_0', 32, 22]], [7, ['Q5_1', 32, 24]], [8, ['Q8_0', 32, 34]], [9, ['Q8_1', 32, 36]],
  [10, ['Q2_K', 256, 84]], [11, ['Q3_K', 256, 110]], [12, ['Q4_K', 256, 144]], [13, ['Q5_K', 256, 176]],
  [14, ['Q6_K', 256, 210]], [15, ['Q8_K', 256, 292]], [16, ['IQ2_XXS', 256, 66]], [17, ['IQ2_XS', 256, 74]],
  [18, ['IQ3_XXS', 256, 98]], [19, ['IQ1_S', 256, 50]], [20, ['IQ4_NL', 32, 18]], [21, ['IQ3_S', 256, 110]],
  [22, ['IQ2_S', 256, 82]], [23, ['IQ4_XS', 256, 136]], [24, ['I8', 1, 1]], [25, ['I16', 1, 2]],
  [26, ['I32', 1, 4]], [27, ['I64', 1, 8]], [28, ['F64', 1, 8]], [29, ['IQ1_M', 256, 56]],
  [30, ['BF16', 1, 2]], [34, ['TQ1_0', 256, 54]], [35, ['TQ2_0', 256, 66]], [39, ['MXFP4', 32, 17]],
]);

/** llama.cpp's `general.file_type` (llama_ftype): the quantization a reviewer reads. */
const FILE_TYPES = new Map<number, string>([
  [0, 'F32'], [1, 'F16'], [2, 'Q4_0'], [3, 'Q4_1'], [7, 'Q8_0'], [8, 'Q5_0'], [9, 'Q5_1'], [10, 'Q2_K'],
  [11, 'Q3_K_S'], [12, 'Q3_K_M'], [13, 'Q3_K_L'], [14, 'Q4_K_S'], [15, 'Q4_K_M'], [16, 'Q5_K_S'], [17, 'Q5_K_M'],
  [18, 'Q6_K'], [19, 'IQ2_XXS'], [20, 'IQ2_XS'], [21, 'Q2_K_S'], [22, 'IQ3_XS'], [23, 'IQ3_XXS'], [24, 'IQ1_S'],
  [25, 'IQ4_NL'], [26, 'IQ3_S'], [27, 'IQ3_M'], [28, 'IQ2_S'], [29, 'IQ2_M'], [30, 'IQ4_XS'], [31, 'IQ1_M'],
  [32, 'BF16'], [36, 'TQ1_0'], [37, 'TQ2_0'], [38, 'MXFP4_MOE'],
]);

/** Bytes of each scalar value type; 8 (string) and 9 (array) are read on their own. */
const VALUE_BYTES = new Map<number, number>([[0, 1], [1, 1], [2, 2], [3, 2], [4, 4], [5, 4], [6, 4], [7, 1], [10, 8], [11, 8], [12, 8]]);

export class NeedMore extends Error {}
export class GgufInvalid extends Error {}

export interface GgufHeader {
  facts: WeightFacts;
  /** Where tensor data starts and how many bytes the tensors need from there. */
  dataStart: number;
  dataBytes: number;
}

/**
 * Parses a GGUF header (v2 and v3) from `b`, the file's first bytes: magic, version, bounded
 * counts, known value types, tensor infos with known ggml types, a power-of-two alignment and
 * tensor offsets that follow one another exactly as ggml lays them out. Throws NeedMore when `b`
 * ends before the header does, GgufInvalid for a malformed one.
 */
export function parseGgufHeader(b: Buffer): GgufHeader {
  const r = new Reader(b);
  if (r.bytes(4).toString('latin1') !== 'GGUF') throw new GgufInvalid('expected the magic GGUF');
  const version = r.u32();
  if (version !== 2 && version !== 3) throw new GgufInvalid(`expected version 2 or 3, got ${version}`);
  const tensorCount = r.count(MAX_TENSORS, 'tensors');
  const kvCount = r.count(MAX_KVS, 'metadata entries');
  let alignment = 32;
  let architecture: string | undefined;
  let fileType: number | undefined;
  const keys = new Set<string>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.string();
    if (keys.has(key)) throw new GgufInvalid(`duplicate metadata key ${JSON.stringify(key)}`);
    keys.add(key);
    const type = r.u32();
    const value = r.value(type, 0);
    if (key === 'general.alignment') {
      if (type !== 4 || typeof value !== 'number' || value === 0 || (value & (value - 1)) !== 0) throw new GgufInvalid(`general.alignment: expected a power of two (uint32), got ${String(value)}`);
      alignment = value;
    } else if (key === 'general.architecture' && typeof value === 'string') architecture = value;
    else if (key === 'general.file_type' && typeof value === 'number') fileType = value;
  }
  const dtypes = new Set<string>();
  const names = new Set<string>();
  let parameters = 0;
  let expected = 0;
  let end = 0;
  for (let i = 0; i < tensorCount; i++) {
    const name = r.string();
    if (names.has(name)) throw new GgufInvalid(`duplicate tensor ${JSON.stringify(name)}`);
    names.add(name);
    const dims = r.u32();
    if (dims < 1 || dims > MAX_DIMS) throw new GgufInvalid(`tensor ${JSON.stringify(name)}: expected 1 to ${MAX_DIMS} dimensions, got ${dims}`);
    const shape: number[] = [];
    for (let d = 0; d < dims; d++) shape.push(r.u64());
    const typeNumber = r.u32();
    const type = GGML_TYPES.get(typeNumber);
    if (!type) throw new GgufInvalid(`tensor ${JSON.stringify(name)}: unknown ggml type ${typeNumber}`);
    const offset = r.u64();
    const [typeName, blockSize, blockBytes] = type;
    const elements = shape.reduce((a, n) => a * n, 1);
    if ((shape[0] ?? 0) % blockSize !== 0 || !Number.isSafeInteger(elements)) throw new GgufInvalid(`tensor ${JSON.stringify(name)}: shape [${shape.join(', ')}] does not fit ${typeName} blocks of ${blockSize}`);
    if (offset !== expected) throw new GgufInvalid(`tensor ${JSON.stringify(name)}: expected data offset ${expected}, got ${offset}`);
    end = offset + (elements / blockSize) * blockBytes;
    expected = alignUp(end, alignment);
    if (!Number.isSafeInteger(expected)) throw new GgufInvalid(`tensor ${JSON.stringify(name)}: data past any file size`);
    dtypes.add(typeName);
    parameters += elements;
  }
  const facts: WeightFacts = { tensors: tensorCount, parameters, dtypes: [...dtypes].sort() };
  if (architecture !== undefined) facts.architecture = architecture;
  const quantization = fileType === undefined ? undefined : FILE_TYPES.get(fileType);
  if (quantization !== undefined) facts.quantization = quantization;
  // The last tensor's padding may be left off the end of the file.
  return { facts, dataStart: alignUp(r.at, alignment), dataBytes: end };
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

class Reader {
  at = 0;
  constructor(private readonly b: Buffer) {}

  private need(n: number): number {
    const at = this.at;
    if (at + n > this.b.length) throw new NeedMore();
    this.at += n;
    return at;
  }

  bytes(n: number): Buffer {
    const at = this.need(n);
    return this.b.subarray(at, at + n);
  }

  u32(): number {
    return this.b.readUInt32LE(this.need(4));
  }

  u64(): number {
    const value = this.b.readBigUInt64LE(this.need(8));
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufInvalid(`a 64-bit value too large (${value})`);
    return Number(value);
  }

  count(max: number, what: string): number {
    const n = this.u64();
    if (n > max) throw new GgufInvalid(`expected at most ${max} ${what}, got ${n}`);
    return n;
  }

  string(): string {
    const n = this.count(MAX_STRING, 'bytes in a string');
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(n));
    } catch (error) {
      if (error instanceof NeedMore) throw error;
      throw new GgufInvalid('a string that is not UTF-8');
    }
  }

  value(type: number, depth: number): unknown {
    if (type === 8) return this.string();
    if (type === 9) {
      if (depth > 1) throw new GgufInvalid('arrays nested too deeply');
      const itemType = this.u32();
      const n = this.count(MAX_ARRAY, 'array items');
      const width = VALUE_BYTES.get(itemType);
      if (width !== undefined) this.need(n * width);
      else for (let i = 0; i < n; i++) this.value(itemType, depth + 1);
      return undefined;
    }
    const width = VALUE_BYTES.get(type);
    if (width === undefined) throw new GgufInvalid(`unknown metadata value type ${type}`);
    const at = this.need(width);
    if (type === 4) return this.b.readUInt32LE(at);
    if (type === 7 && (this.b[at] as number) > 1) throw new GgufInvalid('a bool that is neither 0 nor 1');
    return undefined;
  }
}
