import type { WeightFacts } from './inspection.js';

export const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
const MAX_HEADER_BYTES = 1024 * 1024;
const PLAIN_TYPE = /^[<>|=]?(?:[?biufcSUVa]\d*|[mM]8(?:\[\w+\])?|bool|(?:u?int|float|complex)\d*|bytes\d*|str\d*)$/;
/** A structured dtype's field names sit among its type strings; a name is no type code numpy reads as object. */
const FIELD_NAME = /^(?![<>|=]?O\d*$)(?!object)[A-Za-z_][A-Za-z0-9_]*$/;

export interface NpyHeader {
  /** Bytes before the array data. */
  length: number;
  /** The data is a pickle (an object dtype, or a structured one with an object field). */
  object: boolean;
  facts: WeightFacts;
}

/**
 * A `.npy` header from the file's first bytes: magic, version 1–3, the header length, then a
 * Python dict literal with `descr`, `fortran_order` and `shape`. Undefined when `b` is too short;
 * a string saying what is wrong when it is malformed.
 */
export function parseNpyHeader(b: Buffer): NpyHeader | string | undefined {
  if (b.length < 10) return undefined;
  const major = b[6] as number;
  if (major < 1 || major > 3) return `expected .npy version 1 to 3, got ${major}`;
  const width = major === 1 ? 2 : 4;
  if (b.length < 8 + width) return undefined;
  const headerLength = width === 2 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  if (headerLength > MAX_HEADER_BYTES) return `a header of ${headerLength} bytes, more than ${MAX_HEADER_BYTES}`;
  const length = 8 + width + headerLength;
  if (b.length < length) return undefined;
  const text = b.toString(major === 3 ? 'utf8' : 'latin1', 8 + width, length);
  // literal_eval keeps the last of a repeated key: so does this.
  const descr = [...text.matchAll(/['"]descr['"]\s*:\s*(\[.*?\](?=\s*,\s*['"])|'[^']*'|"[^"]*")\s*,/gs)].pop()?.[1];
  const shape = /['"]shape['"]\s*:\s*\(([\d\s,L]*)\)/.exec(text)?.[1];
  if (!text.trimStart().startsWith('{') || descr === undefined || shape === undefined || !/['"]fortran_order['"]\s*:\s*(True|False)/.test(text)) {
    return 'expected a header dict with descr, fortran_order and shape';
  }
  // Every type string in the descr: an 'O' type code anywhere makes the data a pickle.
  const types = [...descr.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2] ?? '');
  // Fail closed: any type string that is not a plain numeric, bool, bytes, str or time code may
  // name object ('O', 'object', …), and then np.load unpickles the data.
  const object = /['"]descr['"][\s\S]*['"]descr['"]/.test(text) || types.some((type) => !PLAIN_TYPE.test(type) && !FIELD_NAME.test(type));
  const dims = shape.split(',').map((d) => d.trim().replace(/L$/, '')).filter((d) => d !== '').map(Number);
  const parameters = dims.reduce((a, d) => a * d, 1);
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0) || !Number.isSafeInteger(parameters)) return 'expected a shape of non-negative integers';
  const dtype = descr.startsWith('[') ? 'structured' : (types[0] ?? '').replace(/^[<>|=]/, '');
  return { length, object, facts: { tensors: 1, parameters, dtypes: [dtype] } };
}
