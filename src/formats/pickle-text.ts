/**
 * How CPython 3.11's C unpickler reads the text arguments of protocol 0 opcodes and the bytes of
 * its strings: each function accepts exactly what `_pickle.c` accepts (strtol, PyLong_FromString,
 * PyOS_string_to_double, PyBytes_DecodeEscape, raw-unicode-escape, UTF-8 with and without
 * surrogatepass). A line is given without its newline, as latin-1 code units.
 */

/** Python's int() refuses more decimal digits than this (sys.get_int_max_str_digits()). */
const MAX_STR_DIGITS = 4300;
const SPACE = /[\t\n\v\f\r ]/;

/** The C string a line is read as: PyLong_FromString and strtod stop at the first NUL. */
function toCString(line: string): string {
  const nul = line.indexOf('\0');
  return nul < 0 ? line : line.slice(0, nul);
}

function digitValue(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 87;
  if (code >= 65 && code <= 90) return code - 55;
  return 99;
}

/**
 * PyLong_FromString(s, NULL, base) over a C string: the value, or undefined where CPython raises.
 * Values are numbers while exact, else Infinity with the right sign (aisc only needs small ones).
 */
export function parsePyLong(text: string, base0: 0 | 10): number | undefined {
  const s = toCString(text);
  let i = 0;
  while (i < s.length && SPACE.test(s[i] as string)) i++;
  let sign = 1;
  if (s[i] === '+') i++;
  else if (s[i] === '-') {
    sign = -1;
    i++;
  }
  let base: number = base0;
  let oldOctal = false;
  if (base === 0) {
    const next = (s[i + 1] ?? '').toLowerCase();
    if (s[i] !== '0') base = 10;
    else if (next === 'x') base = 16;
    else if (next === 'o') base = 8;
    else if (next === 'b') base = 2;
    else {
      oldOctal = true;
      base = 10;
    }
    if (base !== 10) {
      i += 2;
      if (s[i] === '_') i++;
    }
  }
  if (s[i] === '_') return undefined;
  const start = i;
  let digits = 0;
  let prev = '';
  let value = 0;
  while (i < s.length && (digitValue(s[i] as string) < base || s[i] === '_')) {
    const c = s[i] as string;
    if (c === '_') {
      if (prev === '_') return undefined;
    } else {
      digits++;
      value = value * base + digitValue(c);
    }
    prev = c;
    i++;
  }
  if (prev === '_') return undefined;
  if (i === start || digits === 0) return undefined;
  if (base === 10 && digits > MAX_STR_DIGITS) return undefined;
  if (oldOctal && value !== 0) return undefined;
  while (i < s.length && SPACE.test(s[i] as string)) i++;
  if (i !== s.length) return undefined;
  return sign * value || 0;
}

/** glibc strtol(s, &end, 0): the value and where it stopped (0 when it read no digits), or undefined when it overflowed. */
function strtol(s: string): { value: number; end: number } | undefined {
  let i = 0;
  while (i < s.length && SPACE.test(s[i] as string)) i++;
  let sign = 1;
  if (s[i] === '+' || s[i] === '-') {
    if (s[i] === '-') sign = -1;
    i++;
  }
  let base = 10;
  if (s[i] === '0') {
    if ((s[i + 1] === 'x' || s[i + 1] === 'X') && digitValue(s[i + 2] ?? '') < 16) {
      base = 16;
      i += 2;
    } else base = 8;
  }
  const start = i;
  let value = 0n;
  while (i < s.length && digitValue(s[i] as string) < base) {
    value = value * BigInt(base) + BigInt(digitValue(s[i] as string));
    i++;
  }
  // No digits: strtol leaves its end pointer at the start, which load_int accepts when that is the C string's end.
  if (i === start) return { value: 0, end: 0 };
  const signed = BigInt(sign) * value;
  if (signed > 0x7fffffffffffffffn || signed < -0x8000000000000000n) return undefined;
  return { value: Number(signed), end: i };
}

/** INT's line: strtol first (its end must be the C string's end), else PyLong_FromString(s, NULL, 0). */
export function parseIntLine(line: string): number | undefined {
  const c = toCString(line);
  const fast = strtol(c);
  if (fast && fast.end === c.length) return fast.value;
  return parsePyLong(line, 0);
}

/** LONG's line: a trailing 'L' is dropped, then PyLong_FromString(s, NULL, 0). */
export function parseLongLine(line: string): number | undefined {
  return parsePyLong(line.endsWith('L') ? line.slice(0, -1) : line, 0);
}

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const INF_NAN = /^[+-]?(?:infinity|inf|nan)/i;

/** FLOAT's line: PyOS_string_to_double, then the next character must end the C string. */
export function isFloatLine(line: string): boolean {
  const s = toCString(line);
  const number = FLOAT.exec(s);
  if (number) {
    // "1e" reads as 1 with the e left over; a finite literal that rounds to infinity overflows.
    return number[0].length === s.length && Number.isFinite(Number(number[0]));
  }
  const special = INF_NAN.exec(s);
  return special !== null && special[0].length === s.length;
}

/** STRING's line: quoted with ' or ", its escapes decoded to bytes (PyBytes_DecodeEscape); undefined where CPython raises. */
export function decodeStringLine(line: string): Buffer | undefined {
  if (line.length < 2 || line[0] !== line[line.length - 1] || (line[0] !== "'" && line[0] !== '"')) return undefined;
  const body = line.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c !== 0x5c) {
      out.push(c);
      continue;
    }
    if (++i >= body.length) return undefined; // a trailing backslash
    const e = body[i] as string;
    const simple = ESCAPES[e];
    if (simple !== undefined) {
      if (simple >= 0) out.push(simple);
      continue;
    }
    if (e >= '0' && e <= '7') {
      let value = e.charCodeAt(0) - 48;
      for (let k = 0; k < 2 && i + 1 < body.length && body[i + 1]! >= '0' && body[i + 1]! <= '7'; k++) value = value * 8 + body.charCodeAt(++i) - 48;
      out.push(value & 0xff);
      continue;
    }
    if (e === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      out.push(parseInt(hex, 16));
      i += 2;
      continue;
    }
    out.push(0x5c, e.charCodeAt(0)); // an unknown escape stays as it is (a warning, not an error)
  }
  return Buffer.from(out);
}

/** Escapes with a fixed value; -1 for a backslash-newline, which adds nothing. */
const ESCAPES: Record<string, number> = { '\n': -1, '\\': 0x5c, "'": 0x27, '"': 0x22, b: 8, f: 12, t: 9, n: 10, r: 13, v: 11, a: 7 };

/** UNICODE's line, raw-unicode-escape: bytes are code points, \uXXXX and \UXXXXXXXX are escapes; undefined where CPython raises. */
export function decodeRawUnicodeEscape(line: string): string | undefined {
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c !== '\\' || i + 1 >= line.length) {
      out += c;
      continue;
    }
    const e = line[++i] as string;
    if (e !== 'u' && e !== 'U') {
      out += '\\' + e;
      continue;
    }
    const count = e === 'u' ? 4 : 8;
    const hex = line.slice(i + 1, i + 1 + count);
    if (hex.length < count || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
    const code = parseInt(hex, 16);
    if (code > 0x10ffff) return undefined;
    out += String.fromCodePoint(code);
    i += count;
  }
  return out;
}

/**
 * UTF-8 as CPython decodes it: strict, or with surrogatepass (which also takes the three-byte
 * encodings of U+D800–U+DFFF, as BINUNICODE does). Streams: `update` as bytes come, `end` at the end.
 */
export class Utf8Check {
  private need = 0;
  private lower = 0x80;
  private upper = 0xbf;
  valid = true;

  constructor(private readonly surrogates: boolean) {}

  update(b: Uint8Array, from = 0, to = b.length): void {
    for (let i = from; i < to && this.valid; i++) {
      const byte = b[i] as number;
      if (this.need === 0) {
        if (byte < 0x80) continue;
        if (byte >= 0xc2 && byte <= 0xdf) this.start(1, 0x80, 0xbf);
        else if (byte === 0xe0) this.start(2, 0xa0, 0xbf);
        else if (byte === 0xed) this.start(2, 0x80, this.surrogates ? 0xbf : 0x9f);
        else if (byte >= 0xe1 && byte <= 0xef) this.start(2, 0x80, 0xbf);
        else if (byte === 0xf0) this.start(3, 0x90, 0xbf);
        else if (byte >= 0xf1 && byte <= 0xf3) this.start(3, 0x80, 0xbf);
        else if (byte === 0xf4) this.start(3, 0x80, 0x8f);
        else this.valid = false;
        continue;
      }
      if (byte < this.lower || byte > this.upper) this.valid = false;
      this.lower = 0x80;
      this.upper = 0xbf;
      this.need--;
    }
  }

  end(): boolean {
    return this.valid && this.need === 0;
  }

  private start(need: number, lower: number, upper: number): void {
    this.need = need;
    this.lower = lower;
    this.upper = upper;
  }
}

/** Valid UTF-8 bytes (checked first) to a JavaScript string, a surrogate kept as a lone UTF-16 unit as Python keeps it. */
export function decodeUtf8(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length; ) {
    const byte = b[i] as number;
    let code: number;
    let n: number;
    if (byte < 0x80) [code, n] = [byte, 1];
    else if (byte < 0xe0) [code, n] = [byte & 0x1f, 2];
    else if (byte < 0xf0) [code, n] = [byte & 0x0f, 3];
    else [code, n] = [byte & 0x07, 4];
    for (let k = 1; k < n; k++) code = (code << 6) | ((b[i + k] as number) & 0x3f);
    out += code >= 0xd800 && code <= 0xdfff ? String.fromCharCode(code) : String.fromCodePoint(code);
    i += n;
  }
  return out;
}

export type LineKind = 'number' | 'quoted' | 'text' | 'ascii';

/** Whether a line that starts so could still be a valid argument (for lines too long to read whole). */
export function couldStart(kind: LineKind, start: string): boolean {
  switch (kind) {
    case 'number':
      return /^[\s+\-0-9._a-zA-Z\0]/.test(start);
    case 'quoted':
      return start[0] === "'" || start[0] === '"';
    case 'ascii':
      return isAscii(start);
    case 'text':
      return true;
    default: {
      const never: never = kind;
      return never;
    }
  }
}

export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

export function isText(bytes: Buffer, decode: 'utf-8' | 'ascii', cut: boolean): boolean {
  if (decode === 'ascii') return bytes.every((byte) => byte < 0x80);
  const check = new Utf8Check(false);
  check.update(bytes);
  return cut ? check.valid : check.end();
}

/** Whether every byte is ASCII, as bytes stream by. */
export class AsciiCheck {
  private ok = true;
  update(b: Uint8Array): void {
    if (this.ok) this.ok = b.every((byte) => byte < 0x80);
  }
  end(): boolean {
    return this.ok;
  }
}

