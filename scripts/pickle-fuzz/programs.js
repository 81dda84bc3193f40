// Random pickle programs: single opcodes with plausible arguments, runs of random opcodes, and
// stack-aware programs that keep the stack and its MARKs deep enough for each opcode, so that
// what CPython checks next is a value's type (a call's result as arguments, a dict as a class…)
// rather than an underflow.
import { bytes, op } from './bytes.js';
import { OPCODE_BYTES } from './opcodes.js';

export const TEXT_ARGS = ['1_0', '+1', '-1', ' 1 ', '0x1', '0o7', '07', '08', '', '_1', '1__0', '1L', 'inf', 'nan', '1e9', '00', '01', '99999999999999999999', '\\u0041', "'a'", '"a"'];
const REFUSED = [['posix', 'system'], ['builtins', 'eval'], ['os', 'system'], ['__builtin__', 'eval'], ['torch', '_utils._rebuild_tensor_v2']];
const ALLOWED = [['collections', 'OrderedDict'], ['builtins', 'set'], ['torch', 'FloatStorage'], ['torch._utils', '_rebuild_tensor_v2'], ['numpy', 'dtype'], ['__builtin__', 'frozenset'], ['_codecs', 'encode']];
const NAMES = [...REFUSED, ...ALLOWED];

/** A whole opcode with a plausible argument: what an inserted or generated opcode is. */
export function randomOpcode(random) {
  const [module, name] = random.pick(NAMES);
  switch (random.int(14)) {
    case 0: return op.global(module, name);
    case 1: return bytes(op.short(module), op.short(name), [0x93]);
    case 2: return op.short(random.pick([module, name, 'system', 'posix', '']));
    case 3: return bytes(random.pick(['p', 'g']), random.pick(['0', '1', '2', random.pick(TEXT_ARGS)]), '\n');
    case 4: return bytes(random.pick(['q', 'h']), [random.int(4)]);
    case 5: return bytes(random.pick(['I', 'L', 'F']), random.pick(TEXT_ARGS), '\n');
    case 6: return bytes('K', [random.int(256)]);
    case 7: return bytes(random.pick(['P', 'V', 'S']), random.pick(TEXT_ARGS), '\n');
    case 8: return bytes([0x80, random.int(7)]);
    case 9: return op.frame(random.pick([0, 1, 8, 40, 1000]));
    case 10: return bytes(`i${module}\n${name}\n`);
    case 11: return bytes(random.pick(['U', 'C']), [3], random.pick(['abc', '\xed\xa0\x80', 'po\xe9']));
    default: return bytes([random.pick(OPCODE_BYTES)]);
  }
}

/** Opcodes without an argument, weighted to those that build and call. */
const BARE_OPS = [...'()]}NNtllddssuuaaeeRRRbb0012o\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x93\x94\x94QQ\x97\x98'].map((c) => c.charCodeAt(0));

/** A short run of random opcodes, mostly with a PROTO first and a STOP last. */
export function randomProgram(random) {
  const parts = [];
  if (random.chance(0.7)) parts.push(bytes([0x80, random.chance(0.95) ? random.int(6) : 6]));
  const n = 1 + random.int(random.chance(0.5) ? 8 : 25);
  for (let i = 0; i < n; i++) parts.push(random.chance(0.55) ? bytes([random.pick(BARE_OPS)]) : randomOpcode(random));
  if (random.chance(0.8)) parts.push(bytes('.'));
  return bytes(...parts);
}

/** A value pushed: constants, strings, containers, allowed imports (mostly) and refused ones, memo reads, persistent ids. */
function pushOne(random, stored) {
  switch (random.int(12)) {
    case 0: return bytes(random.pick(['N', ')', ']', '}', '\x88', '\x89', '\x8f']));
    case 1: return bytes('K', [random.int(4)]);
    case 2: return op.short(random.pick(['posix', 'system', 'collections', 'OrderedDict', 'k', '']));
    case 3: case 4: return op.global(...random.pick(ALLOWED));
    case 5: return op.global(...(random.chance(0.3) ? random.pick(REFUSED) : random.pick(ALLOWED)));
    case 6: return bytes(op.short(random.pick(ALLOWED)[0]), op.short(random.pick(ALLOWED)[1]), [0x93]);
    case 7: {
      if (stored.length === 0 && random.chance(0.9)) return bytes('N');
      const index = stored.length > 0 && random.chance(0.9) ? random.pick(stored) : random.int(3);
      return random.chance(0.7) ? bytes('h', [index]) : bytes(`g${index}\n`);
    }
    case 8: return bytes(`P${random.int(9)}\n`);
    case 9: return op.shortBytes(random.pick(['ab', 'posix']));
    case 10: return bytes(random.pick(['I', 'F', 'S', 'V', 'L']), random.pick(["'x'", '1', '0', '1.5', 'x']), '\n');
    default: return op.shortString(random.pick(['posix', 'system', 'p\xe9']));
  }
}

/** [opcode, items it needs above the last MARK, items it leaves in their place, the memo index it stores]. */
const STACK_OPS = [
  ['0', 1, 0], ['2', 1, 2], ['\x85', 1, 1], ['Q', 1, 1], ['q\x00', 1, 1, 0], ['q\x01', 1, 1, 1], ['p2\n', 1, 1, 2],
  ['R', 2, 1], ['R', 2, 1], ['R', 2, 1], ['b', 2, 1], ['a', 2, 1], ['s', 3, 1], ['\x86', 2, 1], ['\x87', 3, 1], ['\x81', 2, 1], ['\x92', 3, 1], ['\x93', 2, 1],
];

/** A program whose every opcode finds the stack it needs, closed with TUPLEs and a STOP. */
export function stackProgram(random) {
  const parts = [bytes([0x80, random.int(6)])];
  let depth = 0;
  const marks = [];
  const stored = [];
  const above = () => depth - (marks.at(-1) ?? 0);
  for (let n = 3 + random.int(25); n > 0; n--) {
    const r = random.next();
    const usable = STACK_OPS.filter(([, need]) => above() >= need);
    if (r < 0.35 || usable.length === 0) {
      parts.push(pushOne(random, stored));
      depth++;
    } else if (r < 0.45) {
      parts.push(bytes('('));
      marks.push(depth);
    } else if (r < 0.6 && marks.length > 0) {
      const mark = marks.pop();
      const [code, leaves] = random.pick([['t', 1], ['l', 1], ['d', 1], ['\x91', 1], ['o', 1], ['e', 0], ['u', 0], ['\x90', 0], ['1', 0]]);
      parts.push(bytes(code));
      depth = mark + leaves;
    } else {
      const [code, need, leaves, index] = random.pick(usable);
      parts.push(bytes(code));
      if (index !== undefined) stored.push(index);
      depth += leaves - need;
    }
  }
  while (marks.length > 0) {
    depth = marks.pop() + 1;
    parts.push(bytes('t'));
  }
  if (depth === 0) parts.push(bytes('N'));
  parts.push(bytes('.'));
  return bytes(...parts);
}
