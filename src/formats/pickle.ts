import { toImportName } from './pickle-allowlist.js';

/** What the opcode walk found in a byte stream. Nothing is ever loaded or run. */
export interface PickleScan {
  /** The bytes are a pickle: a protocol header, or a first stream that reached STOP or an import. */
  isPickle: boolean;
  /** Pickle streams read to their STOP, one after another (PyTorch's legacy format has five). */
  streams: number;
  /** Every import a load would resolve (`module.name`), first seen first, each once. */
  imports: string[];
  /** What the walk could not follow; each makes the file unsafe whatever it imports. */
  problems: string[];
}

export const PICKLE_LIMITS = {
  opcodes: 50_000_000,
  memo: 1_000_000,
  stack: 1_000_000,
  streams: 1000,
  /** A line argument kept to read (an import name, a memo index); longer values are skipped. */
  line: 1024,
  /** Strings kept as values (what STACK_GLOBAL may name); longer ones are only "a string". */
  kept: 256,
};

// Stack items: a string whose value is known, or one of these.
const NOT_STR = 0; // numbers, containers, bytes, None: STACK_GLOBAL refuses them
const ANY = 1; // what a call, a persistent load or a global produced: could be anything
const LONG_STR = 2; // a string too long to keep
type Item = string | typeof NOT_STR | typeof ANY | typeof LONG_STR;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const NUMBER_LINE = /^[\s\w.+-]*$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const NEED_MORE = -1;

/**
 * Where the walk stops following, thrown from deep in an opcode's arguments. Plain text ends in
 * one often ("Hello" is a GET of a memo slot never stored), so it records no stack trace.
 */
class Failure extends Error {
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/**
 * Walks pickle opcodes (protocols 0–5) as the bytes stream by, modelling the unpickler's stack,
 * marks and memo closely enough to tell what GLOBAL, INST and STACK_GLOBAL import, and what
 * STACK_GLOBAL's operands are even when they come from the memo. After a STOP the next stream is
 * walked too. A first stream that is a pickle (a protocol header, or an import seen) and breaks
 * anywhere is a problem: the walk cannot promise what a loader would do past that point. Bytes
 * that stop being opcodes before any import are simply not a pickle (a loader fails there too).
 */
export class PickleScanner {
  private pending: Buffer | undefined;
  private skip = 0;
  /** Skipping a line too long to keep; what to push when it ends (undefined: nothing, it failed). */
  private lineSkip: { push: Item | undefined; opcode: number } | undefined;
  private offset = 0;
  private stack: Item[] = [];
  private marks: number[] = [];
  // Made on first use: most byte streams stop being opcodes at their first byte.
  private memo: Map<number, Item> | undefined;
  private definite = false;
  private inStream = false;
  private done = false;
  private opcodes = 0;
  private importSet: Set<string> | undefined;
  readonly result: PickleScan = { isPickle: false, streams: 0, imports: [], problems: [] };

  /** Whether the walk is over (a stream broke off): the rest of the bytes need not be fed. */
  get finished(): boolean {
    return this.done;
  }

  feed(chunk: Uint8Array): void {
    let buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (buffer.length > 0 && !this.done) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buffer.length);
        this.skip -= n;
        this.offset += n;
        buffer = buffer.subarray(n);
        continue;
      }
      if (this.lineSkip) {
        const newline = buffer.indexOf(10);
        const n = newline < 0 ? buffer.length : newline + 1;
        this.offset += n;
        buffer = buffer.subarray(n);
        if (newline >= 0) this.endLineSkip();
        continue;
      }
      if (this.pending) {
        // Complete the opcode cut at the last chunk's end with just enough of this one.
        const head = buffer.subarray(0, Math.min(buffer.length, PICKLE_LIMITS.line * 2 + 16));
        const joined = Buffer.concat([this.pending, head]);
        const carried = this.pending.length;
        this.pending = undefined;
        const used = this.run(joined);
        if (used < carried) {
          this.pending = Buffer.from(joined.subarray(used));
          buffer = buffer.subarray(head.length);
          continue;
        }
        buffer = buffer.subarray(Math.min(buffer.length, used - carried));
        continue;
      }
      const used = this.run(buffer);
      if (used < buffer.length && !this.done && this.skip === 0 && !this.lineSkip) this.pending = Buffer.from(buffer.subarray(used));
      buffer = buffer.subarray(buffer.length);
    }
  }

  end(): PickleScan {
    if (!this.done && this.inStream) this.fail('the pickle ends before its STOP opcode');
    this.done = true;
    return this.result;
  }

  /** Walks opcodes from `buffer[0]`; returns how many bytes it consumed (a skip may run past the end). */
  private run(buffer: Buffer): number {
    let p = 0;
    try {
      while (p < buffer.length && !this.done) {
        const next = this.step(buffer, p);
        if (next === NEED_MORE) return p;
        this.offset += Math.min(next, buffer.length) - p;
        if (next > buffer.length) {
          this.skip = next - buffer.length;
          return buffer.length;
        }
        p = next;
        if (this.lineSkip) return p;
      }
    } catch (error) {
      if (!(error instanceof Failure)) throw error;
      this.fail(error.message);
    }
    return p;
  }

  /** One opcode at `p`: the position after it, NEED_MORE, or past the end to skip a payload. */
  private step(b: Buffer, p: number): number {
    const op = b[p] as number;
    if (++this.opcodes > PICKLE_LIMITS.opcodes) this.limit(`more than ${PICKLE_LIMITS.opcodes} opcodes`);
    if (!this.inStream) {
      this.inStream = true;
      if (op === 0x80 && this.result.streams === 0) this.definite = true;
    }
    const a = p + 1;
    switch (op) {
      case 0x28: // MARK
        this.marks.push(this.stack.length);
        this.checkDepth();
        return a;
      case 0x2e: // STOP
        this.pop();
        this.endStream();
        return a;
      case 0x30: // POP
        if (this.stack.length > this.fence()) this.stack.pop();
        else this.popMark();
        return a;
      case 0x31: // POP_MARK
        this.popMark();
        return a;
      case 0x32: // DUP
        return this.push(this.top(), a);
      case 0x80: // PROTO
        return this.fixed(b, a, 1, (at) => {
          if ((b[at] as number) > 5) throw new Failure(`unsupported protocol ${b[at]}`);
        });
      case 0x95: // FRAME: the opcodes inside are walked as they come
        return a + 8 <= b.length ? a + 8 : NEED_MORE;
      case 0x4e: case 0x88: case 0x89: case 0x29: case 0x5d: case 0x7d: case 0x8f: // NONE, NEWTRUE, NEWFALSE, EMPTY_TUPLE/LIST/DICT/SET
        return this.push(NOT_STR, a);
      case 0x4b: return this.fixed(b, a, 1, () => this.push(NOT_STR)); // BININT1
      case 0x4d: return this.fixed(b, a, 2, () => this.push(NOT_STR)); // BININT2
      case 0x4a: return this.fixed(b, a, 4, () => this.push(NOT_STR)); // BININT
      case 0x47: return this.fixed(b, a, 8, () => this.push(NOT_STR)); // BINFLOAT
      case 0x8a: return this.counted(b, a, 1, NOT_STR, false); // LONG1
      case 0x8b: return this.counted(b, a, 4, NOT_STR, false, true); // LONG4
      case 0x55: return this.counted(b, a, 1, 'str', false); // SHORT_BINSTRING
      case 0x54: return this.counted(b, a, 4, 'str', false, true); // BINSTRING
      case 0x43: return this.counted(b, a, 1, NOT_STR, false); // SHORT_BINBYTES
      case 0x42: return this.counted(b, a, 4, NOT_STR, false); // BINBYTES
      case 0x8e: case 0x96: return this.counted(b, a, 8, NOT_STR, false); // BINBYTES8, BYTEARRAY8
      case 0x8c: return this.counted(b, a, 1, 'str', true); // SHORT_BINUNICODE
      case 0x58: return this.counted(b, a, 4, 'str', true); // BINUNICODE
      case 0x8d: return this.counted(b, a, 8, 'str', true); // BINUNICODE8
      case 0x97: return this.push(NOT_STR, a); // NEXT_BUFFER
      case 0x98: this.top(); return a; // READONLY_BUFFER
      case 0x49: case 0x4c: case 0x46: // INT, LONG, FLOAT
        return this.line(b, a, NOT_STR, (text) => {
          if (!this.definite && !NUMBER_LINE.test(text)) throw new Failure('expected a number');
          this.push(NOT_STR);
        });
      case 0x53: case 0x56: // STRING, UNICODE
        return this.line(b, a, LONG_STR, (text) => this.push(toLineString(op, text)));
      case 0x50: return this.line(b, a, ANY, () => this.push(ANY)); // PERSID
      case 0x51: this.pop(); return this.push(ANY, a); // BINPERSID
      case 0x67: return this.line(b, a, undefined, (text) => this.push(this.getMemo(toIndex(text)))); // GET
      case 0x68: return this.fixed(b, a, 1, (at) => this.push(this.getMemo(b[at] as number))); // BINGET
      case 0x6a: return this.fixed(b, a, 4, (at) => this.push(this.getMemo(b.readUInt32LE(at)))); // LONG_BINGET
      case 0x70: return this.line(b, a, undefined, (text) => this.putMemo(toIndex(text))); // PUT
      case 0x71: return this.fixed(b, a, 1, (at) => this.putMemo(b[at] as number)); // BINPUT
      case 0x72: return this.fixed(b, a, 4, (at) => this.putMemo(b.readUInt32LE(at))); // LONG_BINPUT
      case 0x94: this.putMemo(this.memo?.size ?? 0); return a; // MEMOIZE
      case 0x61: this.pop(); this.top(); return a; // APPEND
      case 0x73: this.pop(); this.pop(); this.top(); return a; // SETITEM
      case 0x65: case 0x75: case 0x90: this.popMark(); this.top(); return a; // APPENDS, SETITEMS, ADDITEMS
      case 0x6c: case 0x74: case 0x64: case 0x91: this.popMark(); return this.push(NOT_STR, a); // LIST, TUPLE, DICT, FROZENSET
      case 0x85: this.pop(); return this.push(NOT_STR, a); // TUPLE1
      case 0x86: this.pop(); this.pop(); return this.push(NOT_STR, a); // TUPLE2
      case 0x87: this.pop(); this.pop(); this.pop(); return this.push(NOT_STR, a); // TUPLE3
      case 0x62: this.pop(); this.pop(); return this.push(ANY, a); // BUILD: the object may become anything
      case 0x52: case 0x81: this.pop(); this.pop(); return this.push(ANY, a); // REDUCE, NEWOBJ
      case 0x92: this.pop(); this.pop(); this.pop(); return this.push(ANY, a); // NEWOBJ_EX
      case 0x6f: // OBJ: a class (already imported) and its arguments, above a mark
        if (this.stack.length <= this.fence()) throw new Failure('OBJ without a class');
        this.popMark();
        return this.push(ANY, a);
      case 0x63: // GLOBAL module\nname\n
        return this.twoLines(b, a, (module, name) => {
          this.addImport(module, name, 'GLOBAL');
          this.push(ANY);
        });
      case 0x69: // INST module\nname\n, then a mark's items
        return this.twoLines(b, a, (module, name) => {
          this.addImport(module, name, 'INST');
          this.popMark();
          this.push(ANY);
        });
      case 0x93: { // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module === 'string' && typeof name === 'string') {
          this.addImport(module, name, 'STACK_GLOBAL');
          return this.push(ANY, a);
        }
        if (module === NOT_STR || name === NOT_STR) throw new Failure('STACK_GLOBAL needs two strings');
        this.definite = true;
        this.problem(`STACK_GLOBAL at byte ${this.offset} imports a name that is not spelled out in the file (computed at load time, or too long to keep)`);
        return this.push(ANY, a);
      }
      case 0x82: case 0x83: case 0x84: // EXT1, EXT2, EXT4: an import from copyreg's extension registry
        this.definite = true;
        this.problem(`an extension-registry import (EXT${op === 0x82 ? 1 : op === 0x83 ? 2 : 4}) at byte ${this.offset}, which names no module`);
        return this.fixed(b, a, op === 0x82 ? 1 : op === 0x83 ? 2 : 4, () => this.push(ANY));
      default:
        // How most bytes that are not a pickle end, so it is no exception: the walk just stops.
        this.fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
        return a;
    }
  }

  private fixed(b: Buffer, at: number, n: number, then: (at: number) => unknown): number {
    if (at + n > b.length) return NEED_MORE;
    then(at);
    return at + n;
  }

  /** A length-prefixed payload: kept when it is a short string, skipped otherwise. */
  private counted(b: Buffer, at: number, width: 1 | 4 | 8, kind: 'str' | typeof NOT_STR, utf8: boolean, signed = false): number {
    if (at + width > b.length) return NEED_MORE;
    const n = width === 1 ? (b[at] as number) : width === 4 ? (signed ? b.readInt32LE(at) : b.readUInt32LE(at)) : Number(b.readBigUInt64LE(at));
    if (n < 0) throw new Failure('negative length');
    const start = at + width;
    if (kind === NOT_STR || n > PICKLE_LIMITS.kept) {
      this.push(kind === NOT_STR ? NOT_STR : LONG_STR);
      return start + n;
    }
    if (start + n > b.length) return NEED_MORE;
    const bytes = b.subarray(start, start + n);
    this.push(utf8 ? decode(bytes) : toAscii(bytes));
    return start + n;
  }

  /** A newline-ended argument, as latin-1 text (numbers, memo indexes, repr and raw-unicode-escape strings). */
  private line(b: Buffer, at: number, long: Item | undefined, then: (text: string) => unknown): number {
    const newline = b.indexOf(10, at);
    if (newline < 0) {
      if (b.length - at <= PICKLE_LIMITS.line) return NEED_MORE;
      if (long === undefined) throw new Failure('a line argument too long to be a memo index');
      this.lineSkip = { push: long, opcode: b[at - 1] as number };
      return b.length;
    }
    if (newline - at > PICKLE_LIMITS.line) {
      if (long === undefined) throw new Failure('a line argument too long to be a memo index');
      this.push(long);
      return newline + 1;
    }
    then(b.toString('latin1', at, newline));
    return newline + 1;
  }

  private twoLines(b: Buffer, at: number, then: (module: string, name: string) => unknown): number {
    const first = b.indexOf(10, at);
    const second = first < 0 ? -1 : b.indexOf(10, first + 1);
    if (second < 0) {
      if (b.length - at > PICKLE_LIMITS.line * 2) throw new Failure('an import name too long to be a module');
      return NEED_MORE;
    }
    if (second - at > PICKLE_LIMITS.line * 2) throw new Failure('an import name too long to be a module');
    then(decode(b.subarray(at, first)), decode(b.subarray(first + 1, second)));
    return second + 1;
  }

  private endLineSkip(): void {
    const skipped = this.lineSkip;
    this.lineSkip = undefined;
    if (skipped && skipped.push !== undefined) this.stack.push(skipped.push);
  }

  private addImport(module: string, name: string, how: string): void {
    if (!this.definite && (!IDENTIFIER.test(module) || !IDENTIFIER.test(name))) throw new Failure(`${how} names no importable module`);
    this.definite = true;
    const full = toImportName(module, name);
    this.importSet ??= new Set();
    if (!this.importSet.has(full)) {
      this.importSet.add(full);
      this.result.imports.push(full);
    }
  }

  private push(item: Item, next = 0): number {
    this.stack.push(item);
    this.checkDepth();
    return next;
  }

  private pop(): Item {
    if (this.stack.length <= this.fence()) throw new Failure('stack underflow');
    return this.stack.pop() as Item;
  }

  private top(): Item {
    if (this.stack.length <= this.fence()) throw new Failure('stack underflow');
    return this.stack[this.stack.length - 1] as Item;
  }

  private fence(): number {
    return this.marks.length > 0 ? (this.marks[this.marks.length - 1] as number) : 0;
  }

  private popMark(): void {
    const fence = this.marks.pop();
    if (fence === undefined) throw new Failure('no MARK to pop to');
    this.stack.length = fence;
  }

  private getMemo(index: number): Item {
    const item = this.memo?.get(index);
    if (item === undefined) throw new Failure(`memo ${index} was never stored`);
    return item;
  }

  private putMemo(index: number): void {
    this.memo ??= new Map();
    if (this.memo.size >= PICKLE_LIMITS.memo && !this.memo.has(index)) this.limit(`more than ${PICKLE_LIMITS.memo} memo entries`);
    this.memo.set(index, this.top());
  }

  private checkDepth(): void {
    if (this.stack.length + this.marks.length > PICKLE_LIMITS.stack) this.limit(`a stack deeper than ${PICKLE_LIMITS.stack}`);
  }

  private limit(what: string): never {
    this.definite = true;
    throw new Failure(`${what}, past what aisc follows`);
  }

  private endStream(): void {
    if (this.result.streams === 0) this.result.isPickle = true;
    this.result.streams++;
    this.inStream = false;
    this.definite = false;
    this.stack = [];
    this.marks = [];
    this.memo = undefined;
    if (this.result.streams >= PICKLE_LIMITS.streams) {
      this.problem(`more than ${PICKLE_LIMITS.streams} pickle streams, past what aisc follows`);
      this.done = true;
    }
  }

  private fail(reason: string): void {
    // A stream that was a pickle (first stream with a protocol header, any stream after an import)
    // and breaks is one the walk cannot vouch for; bytes that never were a pickle just end here.
    if (this.definite) this.problem(`cannot follow the pickle at byte ${this.offset}: ${reason}`);
    this.done = true;
  }

  private problem(message: string): void {
    this.result.isPickle = true;
    if (!this.result.problems.includes(message)) this.result.problems.push(message);
  }
}

function decode(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new Failure('a string that is not UTF-8');
  }
}

function toAscii(bytes: Uint8Array): Item {
  return bytes.every((byte) => byte < 0x80) ? Buffer.from(bytes).toString('latin1') : NOT_STR;
}

function toIndex(text: string): number {
  const value = Number(text.trim());
  if (!Number.isSafeInteger(value) || value < 0) throw new Failure(`a memo index ${JSON.stringify(text.slice(0, 20))}`);
  return value;
}

/** STRING's repr-quoted and UNICODE's raw-unicode-escape lines: the value when it has no escapes. */
function toLineString(op: number, text: string): Item {
  if (text.includes('\\')) return LONG_STR;
  if (op === 0x56) return text;
  const quoted = /^(['"])(.*)\1$/s.exec(text);
  if (!quoted) throw new Failure('STRING without quotes');
  return quoted[2] ?? '';
}
