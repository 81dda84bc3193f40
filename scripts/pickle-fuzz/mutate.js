// Mutations of a pickle stream: byte-level ones (flip, cut, splice, duplicate, delete, insert)
// and opcode-aware ones (a length prefix changed, a text argument rewritten, a whole opcode
// inserted at an opcode boundary), all drawn from one seeded random source.
import { bytes } from './bytes.js';
import { OPCODE_BYTES, walkOpcodes, writeLength } from './opcodes.js';
import { randomOpcode, TEXT_ARGS } from './programs.js';

/** mulberry32: a small, fast, seeded source of uniform numbers in [0, 1). */
export function makeRandom(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  return { next, int, pick: (list) => list[int(list.length)], chance: (p) => next() < p };
}

const INSERTS = ['_', ' ', '\t', '\n', '+', '-', '0', '1', '\0', '\xed\xa0\x80', '\xed\xbf\xbf', '\xc3', '\xff', 'L', '.', '(', "'", '\\', 'x', 'e'];
const splice = (b, at, remove, insert) => bytes(b.subarray(0, at), insert, b.subarray(at + remove));

/** One mutation of `b` (`other` is a second stream to splice with). */
export function mutateOnce(b, other, random) {
  const at = random.int(b.length + 1);
  const ops = walkOpcodes(b);
  const someOp = ops.length > 0 ? random.pick(ops) : undefined;
  switch (random.int(12)) {
    case 0: return b.length ? splice(b, Math.min(at, b.length - 1), 1, [random.int(256)]) : bytes([random.int(256)]);
    case 1: return b.subarray(0, at);
    case 2: return bytes(b.subarray(0, at), other.subarray(random.int(other.length + 1)));
    case 3: {
      const end = Math.min(b.length, at + 1 + random.int(12));
      return splice(b, end, 0, b.subarray(at, end));
    }
    case 4: return splice(b, at, 1 + random.int(6), []);
    case 5: return splice(b, at, 0, random.pick(INSERTS));
    case 6: return splice(b, at, 0, [random.pick(OPCODE_BYTES)]);
    case 7: {
      if (!someOp) return splice(b, at, 0, randomOpcode(random));
      if (someOp.lengthAt === undefined) return splice(b, someOp.start, 0, random.pick(INSERTS));
      const copy = Buffer.from(b);
      const length = someOp.end - someOp.start - someOp.lengthSize;
      const rest = b.length - someOp.lengthAt - someOp.lengthSize;
      writeLength(copy, someOp.lengthAt, someOp.lengthSize, random.pick([0, 1, length + 1, length - 1, rest, rest + 1, 2 ** 31, -1, random.int(300)]));
      return copy;
    }
    case 8: {
      const lines = ops.filter((o) => OPCODE_TEXT.has(o.code));
      if (lines.length === 0) return splice(b, at, 0, randomOpcode(random));
      const line = random.pick(lines);
      return splice(b, line.start, line.end - 1 - line.start, random.pick(TEXT_ARGS));
    }
    case 9: return splice(b, someOp ? someOp.at : at, 0, randomOpcode(random));
    case 10: return someOp ? splice(b, someOp.at, someOp.end - someOp.at, randomOpcode(random)) : b;
    default: return someOp ? splice(b, someOp.at, someOp.end - someOp.at, []) : b;
  }
}

const OPCODE_TEXT = new Set([...'ILFSVgpP'].map((c) => c.charCodeAt(0)));
