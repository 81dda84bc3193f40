// The pickle opcodes and how each one's argument is laid out, enough to walk a stream opcode by
// opcode (pickletools.genops without the decoding) so that mutations can hit arguments and
// length prefixes and insert whole opcodes at opcode boundaries.

/** Argument kinds: none; fixed width n; a line; two lines; a length of `len` bytes then the payload. */
const NONE = { kind: 'none' };
const fixed = (size) => ({ kind: 'fixed', size });
const LINE = { kind: 'line' };
const LINES2 = { kind: 'lines2' };
const counted = (len) => ({ kind: 'counted', len });

export const OPCODES = new Map([
  ['I', LINE], ['J', fixed(4)], ['K', fixed(1)], ['M', fixed(2)], ['L', LINE], [0x8a, counted(1)], [0x8b, counted(4)],
  ['S', LINE], ['T', counted(4)], ['U', counted(1)], ['B', counted(4)], ['C', counted(1)], [0x8e, counted(8)], [0x96, counted(8)],
  [0x97, NONE], [0x98, NONE], ['N', NONE], [0x88, NONE], [0x89, NONE], ['V', LINE], [0x8c, counted(1)], ['X', counted(4)],
  [0x8d, counted(8)], ['F', LINE], ['G', fixed(8)], [']', NONE], ['a', NONE], ['e', NONE], ['l', NONE], [')', NONE], ['t', NONE],
  [0x85, NONE], [0x86, NONE], [0x87, NONE], ['}', NONE], ['d', NONE], ['s', NONE], ['u', NONE], [0x8f, NONE], [0x90, NONE],
  [0x91, NONE], ['0', NONE], ['2', NONE], ['(', NONE], ['1', NONE], ['g', LINE], ['h', fixed(1)], ['j', fixed(4)], ['p', LINE],
  ['q', fixed(1)], ['r', fixed(4)], [0x94, NONE], [0x82, fixed(1)], [0x83, fixed(2)], [0x84, fixed(4)], ['c', LINES2], [0x93, NONE],
  ['R', NONE], ['b', NONE], ['i', LINES2], ['o', NONE], [0x81, NONE], [0x92, NONE], [0x80, fixed(1)], ['.', NONE], [0x95, fixed(8)],
  ['P', LINE], ['Q', NONE],
].map(([code, arg]) => [typeof code === 'string' ? code.charCodeAt(0) : code, arg]));

export const OPCODE_BYTES = [...OPCODES.keys()];

/**
 * Each opcode of a stream until STOP, an unknown byte or the end: where it starts, where its
 * argument starts and ends, and for a counted argument where its length prefix is.
 */
export function walkOpcodes(bytes) {
  const ops = [];
  let at = 0;
  while (at < bytes.length) {
    const code = bytes[at];
    const arg = OPCODES.get(code);
    if (!arg) break;
    const start = at + 1;
    let end = start;
    let lengthAt;
    if (arg.kind === 'fixed') end = start + arg.size;
    else if (arg.kind === 'line') end = lineEnd(bytes, start);
    else if (arg.kind === 'lines2') end = lineEnd(bytes, lineEnd(bytes, start));
    else if (arg.kind === 'counted') {
      lengthAt = start;
      end = start + arg.len + readLength(bytes, start, arg.len);
    }
    ops.push({ at, code, start, end: Math.min(end, bytes.length), lengthAt, lengthSize: arg.len });
    if (end > bytes.length || code === 0x2e) break;
    at = end;
  }
  return ops;
}

function lineEnd(bytes, from) {
  const newline = bytes.indexOf(0x0a, from);
  return newline < 0 ? bytes.length + 1 : newline + 1;
}

function readLength(bytes, at, size) {
  let n = 0;
  for (let i = size - 1; i >= 0; i--) n = n * 256 + (bytes[at + i] ?? 0);
  return n;
}

/** Writes `value` little-endian in `size` bytes (size ≤ 8), as the counted arguments' prefixes are. */
export function writeLength(bytes, at, size, value) {
  let n = BigInt.asUintN(size * 8, BigInt(value));
  for (let i = 0; i < size && at + i < bytes.length; i++) {
    bytes[at + i] = Number(n & 0xffn);
    n >>= 8n;
  }
}
