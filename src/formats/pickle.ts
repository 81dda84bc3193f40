import { checkAddItems, checkAppend, checkBuffer, checkBuild, checkCall, checkCallable, checkNewObj, checkSetItem, Halt, stop, undecidable } from './pickle-checks.js';
import { AsciiCheck, couldStart, decodeRawUnicodeEscape, decodeStringLine, decodeUtf8, isAscii, isFloatLine, isText, parseIntLine, parseLongLine, parsePyLong, Utf8Check, type LineKind } from './pickle-text.js';
import { BYTES, FLOAT, FROZENSET, GLOBAL, isHashable, isOpaque, MEMORYVIEW, NONE, OBJECT, toInt, toTuple, type Value } from './pickle-values.js';

/** Unpickler(encoding=…) for Python 2 str; `any` is every encoding at once (what aisc judges with). */
export type PickleEncoding = 'ASCII' | 'utf-8' | 'latin1' | 'bytes' | 'any';

export interface ModelOptions {
  encoding: PickleEncoding;
  /** Whether the unpickler has a persistent_load (torch.load has; pickle.load has not). */
  persistentLoad: boolean;
  /** Pickle streams read one after another while each ends at its STOP (PyTorch's legacy format reads five). */
  maxStreams: number;
  /** Given, the walk ends at the first import it refuses (what one load does); without, it names every import. */
  allowed?: (module: string, name: string) => boolean;
}

export interface ReachedImport {
  module: string;
  name: string;
  /** The offset of the opcode that imports it. */
  at: number;
}

/** One `Unpickler.load()`: what it imports before it ends, and how it ends. */
export interface StreamVerdict {
  start: number;
  /** The PROTO opcode comes first: the bytes were written as a pickle. */
  header: boolean;
  imports: ReachedImport[];
  /** ok: its STOP returned a value; stopped: CPython raises first; undecidable: aisc cannot know; unsafe: a refused import (with `allowed`). */
  outcome: 'ok' | 'stopped' | 'undecidable' | 'unsafe';
  reason: string;
  /** Where it ended. */
  end: number;
  /** A value of unknown type was taken to pass a check that CPython's stand-ins in the differential test fail. */
  assumed: boolean;
  /** A REDUCE, NEWOBJ, OBJ or INST called what the stream had made: the bytes act as a pickle does. */
  called: boolean;
  /** What load() returned (outcome ok), for a caller that reads on by it (torch's legacy tar reads a count). */
  result?: Value;
  /** Where an unbuffered file (no peek) stands when load() returns (outcome ok): after the STOP, or at the end of the FRAME holding it. */
  readTo?: number;
}

export const PICKLE_LIMITS = {
  stack: 1_000_000,
  memo: 4_000_000,
  /** A PUT past this index makes CPython allocate a gigabyte or more: whether that fails depends on the machine. */
  memoIndex: 1 << 26,
  /** A text argument longer than this is not followed. */
  line: 1024 * 1024,
  /** Strings up to this length are kept as values (what STACK_GLOBAL may name). */
  kept: 64 * 1024,
};

const NEED_MORE = -1;
const EMPTY = Buffer.alloc(0);
/** The opcode ended the stream without throwing. */
const HALTED = -2;
const HIGHEST_PROTOCOL = 5;

/** A long payload read past the buffer: how much is left, what checks its bytes, what it pushes when whole. */
interface Payload {
  remaining: number;
  check?: (b: Buffer) => void;
  done: () => void;
}

/**
 * A model of CPython 3.11's C unpickler (`_pickle.c` load()), fed bytes as they stream by. It
 * follows every opcode of protocols 0–5 with CPython's argument parsing, stack, MARK and memo
 * semantics and CPython's type checks, and records each find_class it reaches. What stops CPython
 * stops the model; where a value's type is unknowable (the result of a call) it takes the branch
 * that goes on, except where the import itself depends on it (undecidable). Nothing is loaded.
 */
export class PickleMachine {
  readonly streams: StreamVerdict[] = [];
  private carry: Buffer | undefined;
  private payload: Payload | undefined;
  /** The absolute offset of the first byte not yet consumed. */
  private consumed = 0;
  private done = false;
  private stream: StreamVerdict | undefined;
  private stack: Value[] = [];
  private marks: number[] = [];
  /** Made on the first PUT: most byte streams stop at their first opcode. */
  private memo: Map<number, Value> | undefined;
  /** FRAMEs whose bytes have not all arrived: [offset, bytes needed], the needs rising. */
  private frames: [number, number][] = [];
  /** Where the bytes of the FRAME being read end: an opcode that reads across it is undecidable. */
  private window: number | undefined;
  /** The opcode checked its own reads against the window (a bytes payload may cross it). */
  private crossChecked = false;
  private opAt = 0;

  constructor(private readonly options: ModelOptions) {}

  get finished(): boolean {
    return this.done;
  }

  feed(chunk: Uint8Array): void {
    let b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const total = this.consumed + (this.carry?.length ?? 0) + b.length;
    while (b.length > 0 && !this.done) {
      if (this.payload) {
        const n = Math.min(this.payload.remaining, b.length);
        this.payload.check?.(b.subarray(0, n));
        this.payload.remaining -= n;
        this.consumed += n;
        b = b.subarray(n);
        if (this.payload.remaining === 0) this.finishPayload();
        continue;
      }
      if (this.carry) {
        b = this.finishCarried(b);
        continue;
      }
      const used = this.run(b);
      this.consumed += Math.min(used, b.length);
      // Copied: the hash worker reuses its read buffer for the next chunk.
      if (used < b.length && !this.done && !this.payload) this.carry = Buffer.from(b.subarray(used));
      b = EMPTY;
    }
    while (this.frames.length > 0 && (this.frames[0] as [number, number])[1] <= total) this.frames.shift();
  }

  /**
   * Completes the opcode cut at the last chunk's end from as little of this chunk as it needs
   * (a 64 KiB head, then more), so a chunk is not copied whole; returns what is left of it.
   */
  private finishCarried(b: Buffer): Buffer {
    let take = Math.min(b.length, 64 * 1024);
    for (;;) {
      const carried = (this.carry as Buffer).length;
      const joined = Buffer.concat([this.carry as Buffer, b.subarray(0, take)]);
      this.carry = undefined;
      const used = this.run(joined);
      this.consumed += Math.min(used, joined.length);
      if (this.done) return EMPTY;
      if (this.payload) return b.subarray(take);
      if (used >= carried) return b.subarray(used - carried);
      if (take === b.length) {
        this.carry = Buffer.from(joined.subarray(used));
        return EMPTY;
      }
      this.carry = Buffer.from(joined.subarray(used, carried));
      take = Math.min(b.length, take * 4);
    }
  }

  end(): StreamVerdict[] {
    if (!this.done && this.stream) this.halt('stopped', this.payload || this.carry ? 'pickle data was truncated' : 'ran out of input');
    this.done = true;
    // A FRAME whose bytes never came: CPython raised there, and nothing after it ran.
    const frame = this.frames[0];
    if (frame) {
      const [at] = frame;
      const index = this.streams.findIndex((s) => s.end >= at);
      const cut = this.streams[index];
      if (cut) {
        this.streams.length = index + 1;
        Object.assign(cut, { imports: cut.imports.filter((i) => i.at < at), outcome: 'stopped', reason: `FRAME at byte ${at}: pickle data was truncated`, end: at });
      }
    }
    return this.streams;
  }

  private run(b: Buffer): number {
    let p = 0;
    while (p < b.length && !this.done && !this.payload) {
      if (!this.stream) this.begin(b[p] === 0x80);
      this.opAt = this.consumed + p;
      if (this.window !== undefined && this.opAt >= this.window) this.window = undefined;
      let next: number;
      try {
        this.crossChecked = false;
        next = this.step(b, p);
        if (next === HALTED) return p;
        if (next !== NEED_MORE && !this.crossChecked) this.checkWindow(this.consumed + next);
      } catch (error) {
        if (!(error instanceof Halt)) throw error;
        this.halt(error.outcome, error.reason);
        return p;
      }
      if (next === NEED_MORE) return p;
      p = next;
    }
    return p;
  }

  private begin(header: boolean): void {
    this.stream = { start: this.consumed, header, imports: [], outcome: 'stopped', reason: '', end: 0, assumed: false, called: false };
    this.stack = [];
    this.marks = [];
    this.memo = undefined;
  }

  private halt(outcome: 'stopped' | 'undecidable', reason: string): void {
    const stream = this.stream as StreamVerdict;
    stream.outcome = outcome;
    stream.reason = reason;
    stream.end = this.opAt;
    this.streams.push(stream);
    this.stream = undefined;
    this.done = true;
  }

  private finishPayload(): void {
    const payload = this.payload as Payload;
    this.payload = undefined;
    try {
      payload.done();
    } catch (error) {
      if (!(error instanceof Halt)) throw error;
      this.halt(error.outcome, error.reason);
    }
  }

  /**
   * CPython reads a FRAME into its buffer; with a file (torch.load's BytesIO) a read that does not
   * fit the rest of the buffer drops it and reads on after the frame, with a memory buffer or a
   * peeking file it does not. Pickles CPython writes never read across a frame; one that does
   * reads what its file object decides, so aisc cannot know.
   */
  private checkWindow(end: number): void {
    if (this.window !== undefined && end > this.window) undecidable(`limit: an opcode at byte ${this.opAt} reads across the end of its FRAME at byte ${this.window}; what it reads depends on the loader's file object`);
  }

  /** One opcode at `p`: the offset after it, or NEED_MORE. */
  private step(b: Buffer, p: number): number {
    const op = b[p] as number;
    const a = p + 1;
    switch (op) {
      case 0x28: // MARK
        this.marks.push(this.stack.length);
        this.checkDepth();
        return a;
      case 0x2e: // STOP
        this.finishStream(this.pop());
        return a;
      case 0x30: // POP: a mark at the top goes first
        if (this.marks.length > 0 && this.marks[this.marks.length - 1] === this.stack.length) this.marks.pop();
        else this.pop();
        return a;
      case 0x31: { // POP_MARK: Pdata_clear never grows the stack
        const mark = this.marker();
        if (mark < this.stack.length) this.stack.length = mark;
        return a;
      }
      case 0x32: // DUP
        return this.push(this.top(), a);
      case 0x80: // PROTO
        return this.fixed(b, a, 1, (at) => {
          if ((b[at] as number) > HIGHEST_PROTOCOL) stop(`unsupported pickle protocol: ${b[at]}`);
        });
      case 0x95: // FRAME: its bytes must all be there; the opcodes inside are walked as they come
        return this.fixed(b, a, 8, (at) => {
          const length = b.readBigUInt64LE(at);
          if (length > 0x7fffffffffffffffn) stop('FRAME length exceeds the maximum');
          const need = this.consumed + at + 8 + Number(length);
          this.checkWindow(need);
          this.window ??= need;
          const last = this.frames[this.frames.length - 1];
          if (!last || need > last[1]) this.frames.push([this.opAt, need]);
        });
      case 0x4e: return this.push(NONE, a); // NONE
      case 0x88: case 0x89: return this.push(toInt(op === 0x88 ? 1 : 0), a); // NEWTRUE, NEWFALSE
      case 0x29: return this.push(toTuple([]), a); // EMPTY_TUPLE
      case 0x5d: return this.push({ k: 'list', len: 0 }, a); // EMPTY_LIST
      case 0x7d: return this.push({ k: 'dict', empty: true }, a); // EMPTY_DICT
      case 0x8f: return this.push({ k: 'set' }, a); // EMPTY_SET
      case 0x4b: return this.fixed(b, a, 1, (at) => this.push(toInt(b[at] as number))); // BININT1
      case 0x4d: return this.fixed(b, a, 2, (at) => this.push(toInt(b.readUInt16LE(at)))); // BININT2
      case 0x4a: return this.fixed(b, a, 4, (at) => this.push(toInt(b.readInt32LE(at)))); // BININT
      case 0x47: return this.fixed(b, a, 8, () => this.push(FLOAT)); // BINFLOAT
      case 0x8a: return this.counted(b, a, 1, false, 'long'); // LONG1
      case 0x8b: return this.counted(b, a, 4, true, 'long'); // LONG4
      case 0x43: return this.counted(b, a, 1, false, 'bytes'); // SHORT_BINBYTES
      case 0x42: return this.counted(b, a, 4, false, 'bytes'); // BINBYTES
      case 0x8e: return this.counted(b, a, 8, false, 'bytes'); // BINBYTES8
      case 0x96: return this.counted(b, a, 8, false, 'bytearray'); // BYTEARRAY8
      case 0x55: return this.counted(b, a, 1, false, 'str2'); // SHORT_BINSTRING
      case 0x54: return this.counted(b, a, 4, false, 'str2'); // BINSTRING
      case 0x8c: return this.counted(b, a, 1, false, 'unicode'); // SHORT_BINUNICODE
      case 0x58: return this.counted(b, a, 4, false, 'unicode'); // BINUNICODE
      case 0x8d: return this.counted(b, a, 8, false, 'unicode'); // BINUNICODE8
      case 0x97: return stop('pickle stream refers to out-of-band data but no buffers argument was given'); // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        return this.readonlyBuffer(a);
      case 0x49: // INT
        return this.line(b, a, 'number', (line) => {
          const n = parseIntLine(line);
          if (n === undefined) stop('could not convert string to int');
          this.push(toInt(n as number));
        });
      case 0x4c: // LONG
        return this.line(b, a, 'number', (line) => {
          const n = parseLongLine(line);
          if (n === undefined) stop('invalid literal for int()');
          this.push(toInt(n as number));
        });
      case 0x46: // FLOAT
        return this.line(b, a, 'number', (line) => {
          if (!isFloatLine(line)) stop('could not convert string to float');
          this.push(FLOAT);
        });
      case 0x53: // STRING
        return this.line(b, a, 'quoted', (line) => {
          const bytes = decodeStringLine(line);
          if (bytes === undefined) stop('the STRING opcode argument must be quoted, with valid escapes');
          this.push(this.toStr2(bytes));
        });
      case 0x56: // UNICODE (an empty line is an empty string)
        return this.line(b, a, 'text', (line) => {
          const text = decodeRawUnicodeEscape(line);
          if (text === undefined) stop("'rawunicodeescape' codec can't decode");
          this.push(this.toStr(text));
        }, true);
      case 0x50: // PERSID
        if (!this.options.persistentLoad) return stop('a persistent id instruction, but no persistent_load function');
        return this.line(b, a, 'ascii', (line, empty) => {
          if (!empty && !isAscii(line)) stop('persistent IDs in protocol 0 must be ASCII strings');
          this.push(OBJECT);
        }, true);
      case 0x51: // BINPERSID
        if (!this.options.persistentLoad) return stop('a persistent id instruction, but no persistent_load function');
        this.pop();
        return this.push(OBJECT, a);
      case 0x67: // GET
        return this.line(b, a, 'number', (line) => this.push(this.getMemo(parsePyLong(line, 10) ?? stop('invalid memo key'))));
      case 0x68: return this.fixed(b, a, 1, (at) => this.push(this.getMemo(b[at] as number))); // BINGET
      case 0x6a: return this.fixed(b, a, 4, (at) => this.push(this.getMemo(b.readUInt32LE(at)))); // LONG_BINGET
      case 0x70: // PUT
        return this.line(b, a, 'number', (line) => {
          const value = this.top();
          const index = parsePyLong(line, 10);
          if (index === undefined || index < 0) stop(index === undefined ? 'invalid memo key' : 'negative PUT argument');
          this.putMemo(index as number, value);
        });
      case 0x71: return this.fixed(b, a, 1, (at) => this.putMemo(b[at] as number, this.top())); // BINPUT
      case 0x72: return this.fixed(b, a, 4, (at) => this.putMemo(b.readUInt32LE(at), this.top())); // LONG_BINPUT
      case 0x94: this.putMemo(this.memo?.size ?? 0, this.top()); return a; // MEMOIZE
      case 0x61: // APPEND
        if (this.stack.length - 1 <= this.fence()) stop('unpickling stack underflow');
        this.append(this.stack.length - 1);
        return a;
      case 0x65: this.append(this.marker()); return a; // APPENDS
      case 0x73: this.setItems(this.stack.length - 2); return a; // SETITEM
      case 0x75: this.setItems(this.marker()); return a; // SETITEMS
      case 0x90: this.addItems(this.marker()); return a; // ADDITEMS
      case 0x74: return this.push(toTuple(this.popTuple(this.marker())), a); // TUPLE
      case 0x85: case 0x86: case 0x87: { // TUPLE1, TUPLE2, TUPLE3
        const n = op - 0x84;
        if (this.stack.length < n) stop('unpickling stack underflow');
        return this.push(toTuple(this.popTuple(this.stack.length - n)), a);
      }
      case 0x6c: return this.push({ k: 'list', len: this.popTuple(this.marker()).length }, a); // LIST
      case 0x64: return this.push(this.dict(this.marker()), a); // DICT
      case 0x91: // FROZENSET
        if (!this.popTuple(this.marker()).every(isHashable)) stop('unhashable type');
        return this.push(FROZENSET, a);
      case 0x62: this.build(); return a; // BUILD
      case 0x52: { // REDUCE
        const args = this.pop();
        const callable = this.pop();
        this.note(checkCall(callable, args));
        this.called();
        return this.push(OBJECT, a);
      }
      case 0x81: case 0x92: this.newObj(op === 0x92); return a; // NEWOBJ, NEWOBJ_EX
      case 0x6f: { // OBJ
        const mark = this.marker();
        if (this.stack.length - mark < 1) stop('unpickling stack underflow');
        this.popTuple(mark + 1);
        checkCallable(this.pop());
        this.called();
        return this.push(OBJECT, a);
      }
      case 0x63: // GLOBAL
        return this.twoLines(b, a, 'utf-8', (module, name) => {
          this.reach(module, name);
          this.push(GLOBAL);
        });
      case 0x69: { // INST: the mark is taken before the names are read
        const mark = this.marker();
        return this.twoLines(b, a, 'ascii', (module, name) => {
          this.reach(module, name);
          this.popTuple(mark);
          this.called();
          this.push(OBJECT);
        }, () => this.marks.push(mark));
      }
      case 0x93: { // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if ((module.k !== 'str' && !isOpaque(module)) || (name.k !== 'str' && !isOpaque(name))) stop('STACK_GLOBAL requires str');
        if (isOpaque(module) || isOpaque(name)) undecidable('computed: STACK_GLOBAL imports a name computed when the pickle is loaded');
        if (module.k !== 'str' || name.k !== 'str' || module.s === undefined || name.s === undefined) return undecidable('computed: STACK_GLOBAL imports a name whose spelling depends on the loader\'s encoding or is too long to keep');
        this.reach(module.s, name.s);
        return this.push(GLOBAL, a);
      }
      case 0x82: case 0x83: case 0x84: { // EXT1, EXT2, EXT4: copyreg's extension registry is empty
        const width = op === 0x82 ? 1 : op === 0x83 ? 2 : 4;
        return this.fixed(b, a, width, () => stop('unregistered extension code'));
      }
      default:
        // How most bytes that are not a pickle end: no exception for it.
        this.halt('stopped', 'invalid load key');
        return HALTED;
    }
  }

  // --- argument reading -------------------------------------------------------------------

  private fixed(b: Buffer, at: number, n: number, then: (at: number) => unknown): number {
    if (at + n > b.length) return NEED_MORE;
    this.checkWindow(this.consumed + at + n);
    then(at);
    return at + n;
  }

  /**
   * A length-prefixed payload. CPython reads all of it before it pushes anything; a payload past
   * the buffer is kept (strings short enough to be a name) or skipped while its bytes are checked.
   */
  private counted(b: Buffer, at: number, width: 1 | 4 | 8, signed: boolean, kind: 'long' | 'bytes' | 'bytearray' | 'str2' | 'unicode'): number {
    if (at + width > b.length) return NEED_MORE;
    let n: number;
    if (width === 1) n = b[at] as number;
    else if (width === 4) n = signed ? b.readInt32LE(at) : b.readUInt32LE(at);
    else {
      const big = b.readBigUInt64LE(at);
      if (big > 0x7fffffffffffffffn) return stop('a length that exceeds the maximum size');
      n = Number(big);
    }
    if (n < 0) return stop('LONG pickle has negative byte count');
    const start = at + width;
    // The length is read from the buffer; a bytes payload is read into place across a FRAME's end (_Unpickler_ReadInto).
    this.checkWindow(this.consumed + start);
    if (kind !== 'bytes' && kind !== 'bytearray') this.checkWindow(this.consumed + start + n);
    this.crossChecked = true;
    const keep = kind === 'str2' || kind === 'unicode' || (kind === 'long' && n <= 6);
    if (start + n <= b.length) {
      this.payloadDone(kind, b.subarray(start, start + n), n);
      return start + n;
    }
    if (keep && n <= PICKLE_LIMITS.kept) return NEED_MORE;
    const check = kind === 'unicode' ? new Utf8Check(true) : kind === 'str2' ? this.str2Check() : undefined;
    this.payload = {
      remaining: n - (b.length - start),
      ...(check ? { check: (bytes: Buffer) => check.update(bytes) } : {}),
      done: () => this.payloadDone(kind, undefined, n, check),
    };
    check?.update(b.subarray(start));
    return b.length;
  }

  /** Pushes what a whole payload makes: its bytes when kept, else only its checker's verdict. */
  private payloadDone(kind: 'long' | 'bytes' | 'bytearray' | 'str2' | 'unicode', bytes: Buffer | undefined, n: number, check?: Utf8Check | AsciiCheck): void {
    switch (kind) {
      case 'long':
        // Little-endian two's complement; past six bytes aisc keeps no value (too big to index anything).
        this.push(toInt(n === 0 ? 0 : bytes && n <= 6 ? bytes.readIntLE(0, n) : Number.NaN));
        return;
      case 'bytes':
        this.push(BYTES);
        return;
      case 'bytearray':
        this.push({ k: 'bytearray', len: n });
        return;
      case 'unicode':
        if (bytes) {
          const utf8 = new Utf8Check(true);
          utf8.update(bytes);
          if (!utf8.end()) stop("'utf-8' codec can't decode");
          this.push(this.toStr(decodeUtf8(bytes)));
        } else {
          if (!(check as Utf8Check).end()) stop("'utf-8' codec can't decode");
          this.push({ k: 'str', s: undefined });
        }
        return;
      case 'str2':
        this.push(this.toStr2(bytes, check));
        return;
      default: {
        const never: never = kind;
        return never;
      }
    }
  }

  private str2Check(): Utf8Check | AsciiCheck | undefined {
    const encoding = this.options.encoding;
    return encoding === 'ASCII' ? new AsciiCheck() : encoding === 'utf-8' ? new Utf8Check(false) : encoding === 'any' ? new AsciiCheck() : undefined;
  }

  /** A Python 2 str (STRING, BINSTRING, SHORT_BINSTRING) as the loader's encoding decodes it. */
  private toStr2(bytes: Buffer | undefined, check?: Utf8Check | AsciiCheck): Value {
    const encoding = this.options.encoding;
    if (encoding === 'bytes') return BYTES;
    const ascii = bytes ? bytes.every((byte) => byte < 0x80) : (check as AsciiCheck | undefined)?.end() ?? false;
    switch (encoding) {
      case 'ASCII':
        if (!(bytes ? ascii : (check as AsciiCheck).end())) stop("'ascii' codec can't decode");
        return this.toStr(bytes?.toString('latin1'));
      case 'utf-8': {
        if (bytes) {
          const utf8 = new Utf8Check(false);
          utf8.update(bytes);
          if (!utf8.end()) stop("'utf-8' codec can't decode");
          return this.toStr(decodeUtf8(bytes));
        }
        if (!(check as Utf8Check).end()) stop("'utf-8' codec can't decode");
        return { k: 'str', s: undefined };
      }
      case 'latin1':
        return this.toStr(bytes?.toString('latin1'));
      case 'any':
        // latin-1 decodes anything; which name non-ASCII bytes spell depends on the loader's encoding.
        return this.toStr(ascii ? bytes?.toString('latin1') : undefined);
      default: {
        const never: never = encoding;
        return never;
      }
    }
  }

  private toStr(s: string | undefined): Value {
    return { k: 'str', s: s !== undefined && s.length <= PICKLE_LIMITS.kept ? s : undefined };
  }

  /**
   * A newline-ended argument as latin-1 text without its newline. CPython reads the whole line
   * before it parses; a line past the limit is judged from its start where that already decides.
   */
  private line(b: Buffer, at: number, kind: LineKind, then: (line: string, empty: boolean) => unknown, emptyAllowed = false): number {
    const newline = b.indexOf(10, at);
    if (newline < 0) {
      if (b.length - at <= PICKLE_LIMITS.line) return NEED_MORE;
      if (!couldStart(kind, b.toString('latin1', at, at + 64))) return stop('an argument no line can make valid');
      return undecidable(`limit: a text argument longer than ${PICKLE_LIMITS.line} bytes`);
    }
    this.checkWindow(this.consumed + newline + 1);
    if (newline === at && !emptyAllowed) return stop('pickle data was truncated'); // bad_readline: an empty line
    then(b.toString('latin1', at, newline), newline === at);
    return newline + 1;
  }

  /** GLOBAL's and INST's module and name lines; `undo` puts back what was taken if the lines are not all here yet. */
  private twoLines(b: Buffer, at: number, decode: 'utf-8' | 'ascii', then: (module: string, name: string) => unknown, undo?: () => void): number {
    const names: string[] = [];
    let p = at;
    for (let i = 0; i < 2; i++) {
      const newline = b.indexOf(10, p);
      if (newline < 0) {
        if (b.length - p > PICKLE_LIMITS.line) {
          if (!isText(b.subarray(p, p + 4096), decode, true)) return stop('an import name that does not decode');
          return undecidable(`limit: an import name longer than ${PICKLE_LIMITS.line} bytes`);
        }
        undo?.();
        return NEED_MORE;
      }
      this.checkWindow(this.consumed + newline + 1);
      if (newline === p) return stop('pickle data was truncated');
      const raw = b.subarray(p, newline);
      if (!isText(raw, decode, false)) return stop(`an import name that is not ${decode === 'ascii' ? 'ASCII' : 'UTF-8'}`);
      names.push(decode === 'ascii' ? raw.toString('latin1') : decodeUtf8(raw));
      p = newline + 1;
    }
    then(names[0] as string, names[1] as string);
    return p;
  }

  // --- the stack, marks and memo as _pickle.c keeps them ----------------------------------

  private fence(): number {
    return this.marks.length > 0 ? (this.marks[this.marks.length - 1] as number) : 0;
  }

  private push(value: Value, next = 0): number {
    this.stack.push(value);
    this.checkDepth();
    return next;
  }

  private pop(): Value {
    if (this.stack.length <= this.fence()) stop(this.marks.length > 0 ? 'unexpected MARK found' : 'unpickling stack underflow');
    return this.stack.pop() as Value;
  }

  private top(): Value {
    if (this.stack.length <= this.fence()) stop('unpickling stack underflow');
    return this.stack[this.stack.length - 1] as Value;
  }

  private marker(): number {
    const mark = this.marks.pop();
    if (mark === undefined) return stop('could not find MARK');
    return mark;
  }

  /** Pdata_poptuple: the items from `start` up, which must not reach below the fence. */
  private popTuple(start: number): Value[] {
    if (start < this.fence()) stop('unexpected MARK found');
    // A mark above the stack (SETITEM and APPEND clear below marks): PyTuple_New of a negative size.
    if (start > this.stack.length) stop('bad argument to internal function');
    return this.stack.splice(start);
  }

  private getMemo(index: number): Value {
    const value = index >= 0 ? this.memo?.get(index) : undefined;
    if (value === undefined) stop(`Memo value not found at index ${index}`);
    return value as Value;
  }

  private putMemo(index: number, value: Value): void {
    // Past this, CPython's memo resize overflows its size check: a MemoryError whatever the machine.
    if (index >= 2 ** 59) stop('MemoryError');
    // CPython allocates 16 bytes an index: whether that succeeds depends on the machine, so the
    // model takes the path that goes on (a stop there would only run less).
    this.note(index >= PICKLE_LIMITS.memoIndex);
    const memo = (this.memo ??= new Map());
    if (!memo.has(index) && memo.size >= PICKLE_LIMITS.memo) undecidable(`limit: more than ${PICKLE_LIMITS.memo} memo entries`);
    memo.set(index, value);
  }

  private checkDepth(): void {
    if (this.stack.length + this.marks.length > PICKLE_LIMITS.stack) undecidable(`limit: a stack deeper than ${PICKLE_LIMITS.stack}`);
  }

  // --- opcodes that call into objects: CPython's type checks -------------------------------

  private readonlyBuffer(next: number): number {
    const value = this.top();
    if (value.k === 'bytearray') this.stack[this.stack.length - 1] = MEMORYVIEW;
    else this.note(checkBuffer(value));
    return next;
  }

  /** do_append: the list at x-1 (above the fence) extends by the items from x up. */
  private append(x: number): void {
    this.checkAbove(x);
    if (this.stack.length === x) return;
    this.note(checkAppend(this.stack[x - 1] as Value, this.stack.slice(x)));
    this.stack.length = x;
  }

  /** do_setitems: the object at x-1 (above the fence) gets the pairs from x up set on it. */
  private setItems(x: number): void {
    this.checkAbove(x);
    const length = this.stack.length;
    if (length === x) return;
    if ((length - x) % 2 !== 0) stop('odd number of items for SETITEMS');
    const target = this.stack[x - 1] as Value;
    for (let i = x; i < length; i += 2) this.note(checkSetItem(target, this.stack[i] as Value, this.stack[i + 1] as Value));
    this.stack.length = x;
  }

  private addItems(mark: number): void {
    this.checkAbove(mark);
    if (this.stack.length === mark) return;
    checkAddItems(this.stack[mark - 1] as Value, this.popTuple(mark));
  }

  /** The start of the items a container opcode takes: above the fence, within the stack. */
  private checkAbove(x: number): void {
    if (x > this.stack.length || x <= this.fence()) stop('unpickling stack underflow');
  }

  private dict(mark: number): Value {
    const n = this.stack.length - mark;
    if (n % 2 !== 0) stop('odd number of items for DICT');
    for (let i = mark; i < this.stack.length; i += 2) if (!isHashable(this.stack[i] as Value)) stop('unhashable type');
    if (n > 0) this.stack.length = mark;
    return { k: 'dict', empty: n <= 0 };
  }

  private build(): void {
    if (this.stack.length - 2 < this.fence()) stop('unpickling stack underflow');
    const state = this.pop();
    this.note(checkBuild(this.top(), state));
  }

  private newObj(withKwargs: boolean): void {
    const kwargs = withKwargs ? this.pop() : undefined;
    const args = this.pop();
    const cls = this.pop();
    this.note(checkNewObj(cls, args, kwargs));
    this.called();
    this.push(OBJECT);
  }

  private called(): void {
    (this.stream as StreamVerdict).called = true;
  }

  /** A check that took the branch on which CPython goes on, for a value of unknown type. */
  private note(assumed: boolean): void {
    if (assumed) (this.stream as StreamVerdict).assumed = true;
  }

  private reach(module: string, name: string): void {
    const stream = this.stream as StreamVerdict;
    stream.imports.push({ module, name, at: this.opAt });
    if (this.options.allowed && !this.options.allowed(module, name)) {
      stop(`find_class(${JSON.stringify(module)}, ${JSON.stringify(name)}) is refused`);
    }
  }

  private finishStream(result: Value): void {
    const stream = this.stream as StreamVerdict;
    stream.outcome = 'ok';
    stream.end = this.opAt + 1;
    stream.result = result;
    stream.readTo = Math.max(stream.end, this.window ?? 0);
    this.streams.push(stream);
    this.stream = undefined;
    if (this.streams.length >= this.options.maxStreams) this.done = true;
  }
}

