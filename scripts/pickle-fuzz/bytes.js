// Writing pickles by hand: strings are latin-1 bytes, arrays are byte values.

/** The bytes of each part one after another: a string as latin-1, an array or Uint8Array as bytes. */
export function bytes(...parts) {
  return Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))));
}

export function le(value, size) {
  const out = Buffer.alloc(size);
  let n = BigInt.asUintN(size * 8, BigInt(value));
  for (let i = 0; i < size; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

const utf8 = (text) => Buffer.from(text, 'utf8');

/** One opcode with its argument, as the format lays it out. */
export const op = {
  proto: (n) => bytes([0x80, n]),
  frame: (n) => bytes([0x95], le(n, 8)),
  global: (module, name) => bytes(`c${module}\n${name}\n`),
  inst: (module, name) => bytes(`i${module}\n${name}\n`),
  short: (text) => bytes([0x8c, utf8(text).length], utf8(text)),
  unicode: (text) => bytes('X', le(utf8(text).length, 4), utf8(text)),
  unicode8: (text) => bytes([0x8d], le(utf8(text).length, 8), utf8(text)),
  shortString: (text) => bytes('U', [text.length], text),
  binString: (text) => bytes('T', le(text.length, 4), text),
  shortBytes: (text) => bytes('C', [text.length], text),
  binbytes: (text) => bytes('B', le(text.length, 4), text),
  binint1: (n) => bytes('K', [n]),
  stackGlobal: () => bytes([0x93]),
  memoize: () => bytes([0x94]),
  binput: (i) => bytes('q', [i]),
  longBinput: (i) => bytes('r', le(i, 4)),
  binget: (i) => bytes('h', [i]),
  longBinget: (i) => bytes('j', le(i, 4)),
};

/** posix.system through STACK_GLOBAL, then a call of it: what protocol 4 writes for os.system('id'). */
export const STACK_SYSTEM = bytes(op.short('posix'), op.short('system'), op.stackGlobal());
/** collections.OrderedDict(): an allowed import called, leaving a value of unknown type. */
export const ORDERED_DICT = bytes(op.global('collections', 'OrderedDict'), ')R');
