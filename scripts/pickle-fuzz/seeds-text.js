// Hand-written seeds for the opcodes whose argument is text or a string: every form of number
// that strtol, PyLong_FromString and PyOS_string_to_double might take, STRING's quotes and
// escapes, raw-unicode-escape, UTF-8 with surrogates, and the Python 2 str opcodes that the
// unpickler's encoding decodes. Most end in an import, so what the argument does decides it.
import { bytes, le, op, STACK_SYSTEM } from './bytes.js';

const SYSTEM = bytes(op.global('posix', 'system'));

const INT_FORMS = [
  '1', '0', '01', '00', '-1', '+5', ' 7', '\t7', '7 ', '7\t', '1_000', '1__0', '_1', '1_', '0x1f', '0X1F', '0x_1f', '0o17', '0O17',
  '017', '08', '0b101', '0_7', '0_0', '00_0', '99999999999999999999', '-9223372036854775808', '9223372036854775808', '', '-', '+',
  ' ', '1L', '1.0', '1\r', '1\0' + '2', '0x', '1e3', '\u0661', '--1', '+-1', '0x7fffffffffffffff', '-0', '2147483648', '\v1', '1 2',
];
const LONG_FORMS = ['1L', '1', '-0', '0x10L', '010', '1_0L', '0L', 'L', '', ' 5 ', '5l', '5LL', '0b1L', '-0x_fL', '123456789012345678901234567890L'];
const FLOAT_FORMS = [
  '1.5', '1e5', '1_0.5', ' 1.5', '1.5 ', 'inf', '-Infinity', 'nan', '-nan', 'NaN', '1e999', '-1e999', '1e-999', '0x1p3', '.5', '5.', '',
  '+1', '1,5', '1.5\0' + 'x', 'infinit', 'in', '1e', '1e+', '1.5e-3', '1_000.0', '1.5_0', '0001.5',
];
const MEMO_FORMS = ['0', '_0', '1_0', '+7', ' 7 ', '-1', '', '0x1', '07', '1__0', '99999999999999999999', '1000000', '\t3\t', '3\0' + '4'];
const STRING_FORMS = [
  "'abc'", '"abc"', '\'abc"', "'a\\'b'", "'\\x41\\n\\t\\101'", "'\\xZZ'", "'\xe9'", "'\\u0041'", "''", "'", '', "'abc'  ", "'\\q'",
  "'\\'", "'\\\\'", "'a\nb'", '"\'"', "'\\x4'", "'\\777'", "'\\0'", "'\x80\xff'", "'\xc3\xa9'", "'\xed\xa0\x80'",
];
const UNICODE_FORMS = [
  'abc', '\\u00e9', '\\U0001F600', '\\U00110000', '\\ud800', '\\u12', '\\x41', '\xe9', '\\\\u0041', '\\\\\\u0041', '\\', '\\U0000',
  '\\u0070osix', 'a\\nb', '\\N{DIGIT ONE}', '\xff\xfe', '\\udfff\\ud800',
];

function* numberSeeds() {
  for (const form of INT_FORMS) {
    yield [`INT ${JSON.stringify(form)}`, bytes(`I${form}\n.`)];
    yield [`INT ${JSON.stringify(form)} then import`, bytes(`I${form}\n0`, SYSTEM, '.')];
  }
  yield ['INT 4300 digits', bytes(`I${'7'.repeat(4300)}\n0`, SYSTEM, '.')];
  yield ['INT 4301 digits', bytes(`I${'7'.repeat(4301)}\n0`, SYSTEM, '.')];
  yield ['INT 5000 hex digits', bytes(`I0x${'f'.repeat(5000)}\n0`, SYSTEM, '.')];
  yield ['LONG 4301 digits', bytes(`L${'1'.repeat(4301)}L\n0`, SYSTEM, '.')];
  for (const form of LONG_FORMS) yield [`LONG ${JSON.stringify(form)}`, bytes(`L${form}\n0`, SYSTEM, '.')];
  for (const form of FLOAT_FORMS) yield [`FLOAT ${JSON.stringify(form)}`, bytes(`F${form}\n0`, SYSTEM, '.')];
  for (const form of MEMO_FORMS) {
    yield [`PUT ${JSON.stringify(form)}`, bytes(`Vposix\np${form}\n0`, `g${form.trim() === '' ? '0' : form}\n`, op.short('system'), op.stackGlobal(), '.')];
    yield [`GET ${JSON.stringify(form)}`, bytes('Vposix\np7\n', `g${form}\n`, op.short('system'), op.stackGlobal(), '.')];
  }
  yield ['LONG1 of 0 bytes', bytes([0x8a, 0], '0', SYSTEM, '.')];
  yield ['LONG1 past the end', bytes([0x8a, 9, 1, 2])];
  yield ['LONG4 negative length', bytes([0x8b], le(-1, 4), '0', SYSTEM, '.')];
  yield ['LONG4 of 2 bytes', bytes([0x8b], le(2, 4), [0xff, 0x7f], '0', SYSTEM, '.')];
  yield ['BININT2 and BININT', bytes('M\xff\xffJ\xff\xff\xff\xff', [0x86], '.')];
  yield ['BINFLOAT', bytes('G\x7f\xf8\x00\x00\x00\x00\x00\x01.')];
}

function* stringSeeds() {
  for (const form of STRING_FORMS) yield [`STRING ${JSON.stringify(form)}`, bytes(`S${form}\n0`, SYSTEM, '.')];
  yield ['STRING operands of STACK_GLOBAL', bytes("S'posix'\nS'system'\n", [0x93], '.')];
  yield ['STRING with an escaped module', bytes("S'\\x70osix'\nS'system'\n", [0x93], '.')];
  for (const form of UNICODE_FORMS) yield [`UNICODE ${JSON.stringify(form)}`, bytes(`V${form}\n0`, SYSTEM, '.')];
  yield ['UNICODE escaped operands', bytes('V\\u0070osix\nVsys\\u0074em\n', [0x93], '.')];
  yield ['UNICODE lone surrogate module', bytes('V\\ud800\nVsystem\n', [0x93], '.')];
  for (const [label, raw] of [['ascii', 'posix'], ['latin-1', 'pos\xe9x'], ['utf-8', 'pos\xc3\xa9x'], ['surrogate', 'p\xed\xa0\x80'], ['invalid', 'p\xff']]) {
    yield [`SHORT_BINSTRING ${label} operands`, bytes(op.shortString(raw), op.shortString('system'), [0x93], '.')];
    yield [`BINSTRING ${label} operand`, bytes(op.binString(raw), '0', SYSTEM, '.')];
    yield [`SHORT_BINUNICODE ${label}`, bytes([0x8c, raw.length], raw, '0', STACK_SYSTEM, '.')];
    yield [`BINUNICODE ${label} module`, bytes('X', le(raw.length, 4), raw, op.short('system'), [0x93], '.')];
    yield [`BINUNICODE8 ${label}`, bytes([0x8d], le(raw.length, 8), raw, '0', SYSTEM, '.')];
  }
  yield ['SHORT_BINUNICODE overlong NUL', bytes([0x8c, 2, 0xc0, 0x80], '0', SYSTEM, '.')];
  yield ['SHORT_BINUNICODE low surrogate pair', bytes([0x8c, 6, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], '0', SYSTEM, '.')];
  yield ['SHORT_BINUNICODE past the end', bytes([0x8c, 200], 'posix')];
  yield ['BINUNICODE8 huge length', bytes([0x8d], le(2n ** 63n + 5n, 8), 'abc')];
  yield ['BINBYTES8 huge length', bytes([0x8e], le(2n ** 64n - 1n, 8), 'abc')];
  yield ['BYTEARRAY8', bytes([0x80, 5, 0x96], le(3, 8), 'abc.')];
  yield ['BINBYTES 3 GiB', bytes('B', le(0xc0000000, 4), 'abc')];
  yield ['SHORT_BINBYTES then STACK_GLOBAL', bytes(op.shortBytes('posix'), op.short('system'), [0x93], '.')];
  yield ['BINBYTES module', bytes(op.binbytes('posix'), op.short('system'), [0x93], '.')];
}

export function* textSeeds() {
  yield* numberSeeds();
  yield* stringSeeds();
}
