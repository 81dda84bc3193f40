import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { AiscError, isAiscError } from '../errors.js';
import { parseJsonStrict } from '../io/strict-json.js';
import { MAX_SAFETENSORS_HEADER_BYTES as MAX_HEADER_BYTES, type SafetensorsCapture } from './safetensors-capture.js';

export interface SafetensorsFacts {
  tensors: number;
  parameters: number;
  dtypes: string[];
}

/** Bytes per element. A Map: a dtype named `constructor` in a header is unknown, not a function. */
const DTYPE_BYTES = new Map<string, number>([
  ['BOOL', 1], ['U8', 1], ['I8', 1], ['F8_E5M2', 1], ['F8_E4M3', 1], ['F8_E8M0', 1],
  ['I16', 2], ['U16', 2], ['F16', 2], ['BF16', 2],
  ['I32', 4], ['U32', 4], ['F32', 4],
  ['I64', 8], ['U64', 8], ['F64', 8], ['C64', 8],
]);

/**
 * Reads a safetensors header without loading tensors: an 8-byte little-endian length, then a JSON
 * object of tensors with dtype, shape and data offsets, which must tile the data region exactly.
 */
export function readSafetensorsFacts(path: string, where: string): SafetensorsFacts {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const prefix = Buffer.alloc(8);
    if (size < 8 || readSync(fd, prefix, 0, 8, 0) !== 8) throw invalid(where, `expected an 8-byte header length, got a ${size}-byte file`);
    const headerLength = prefix.readBigUInt64LE(0);
    if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) {
      throw invalid(where, `expected a header of at most ${Math.min(MAX_HEADER_BYTES, size - 8)} bytes, got ${headerLength}`);
    }
    const header = Buffer.alloc(Number(headerLength));
    if (readSync(fd, header, 0, header.length, 8) !== header.length) throw invalid(where, 'header is truncated');
    return toFacts(header, size - 8 - header.length, where);
  } finally {
    closeSync(fd);
  }
}

/** The facts of a header a hash worker captured from the bytes it hashed (see SafetensorsHeaderCapture). */
export function toSafetensorsFacts(capture: SafetensorsCapture, fileSize: number, where: string): SafetensorsFacts {
  if ('problem' in capture) throw invalid(where, capture.problem);
  return toFacts(capture.header, fileSize - 8 - capture.header.length, where);
}

function toFacts(header: Uint8Array, dataBytes: number, where: string): SafetensorsFacts {
  // The reference reader's rules: a UTF-8 JSON object that starts at the first byte, no key twice.
  if (header[0] !== 0x7b) throw invalid(where, 'expected the header to start with "{"');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(header);
  } catch {
    throw invalid(where, 'expected a UTF-8 JSON header');
  }
  let parsed: unknown;
  try {
    parsed = parseJsonStrict(text, 'header');
  } catch (error) {
    if (!isAiscError(error)) throw error;
    throw invalid(where, error.code === 'JSON_DUPLICATE_KEY' ? error.message : 'expected a JSON object header');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid(where, 'expected a JSON object header');
  const metadata = (parsed as Record<string, unknown>).__metadata__;
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata) || !Object.values(metadata).every((v) => typeof v === 'string'))) {
    throw invalid(where, '__metadata__: expected an object of strings');
  }
  const spans: [number, number][] = [];
  const dtypes = new Set<string>();
  let parameters = 0;
  for (const [name, info] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = (info ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const width = typeof dtype === 'string' ? DTYPE_BYTES.get(dtype) : undefined;
    if (width === undefined) throw invalid(where, `tensor ${JSON.stringify(name)}: unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) throw invalid(where, `tensor ${JSON.stringify(name)}: expected a shape of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o))) throw invalid(where, `tensor ${JSON.stringify(name)}: expected two data offsets`);
    const [start, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (start < 0 || end < start || end > dataBytes || end - start !== count * width) {
      throw invalid(where, `tensor ${JSON.stringify(name)}: offsets [${start}, ${end}] do not fit ${count} × ${String(dtype)} in ${dataBytes} data bytes`);
    }
    spans.push([start, end]);
    dtypes.add(dtype as string);
    parameters += count;
  }
  spans.sort((a, b) => a[0] - b[0]);
  let cursor = 0;
  for (const [start, end] of spans) {
    if (start !== cursor) throw invalid(where, `tensor data overlaps or leaves a gap at byte ${cursor}`);
    cursor = end;
  }
  if (cursor !== dataBytes) throw invalid(where, `expected tensor data to fill ${dataBytes} bytes, got ${cursor}`);
  return { tensors: spans.length, parameters, dtypes: [...dtypes].sort() };
}

function invalid(where: string, message: string): AiscError<'FORMAT_INVALID'> {
  return new AiscError('FORMAT_INVALID', `${where === '' ? '' : `${where}: `}not a valid safetensors file: ${message}`);
}
