// Hand-written seeds for the opcodes that move values: MARK and the stack, the memo, calls and
// what is called, persistent ids, buffers, the extension registry, FRAME and PROTO; and the
// bypasses that test/formats/pickle.test.ts and test/helpers/pickles.ts hold.
import { bytes, le, op, ORDERED_DICT, STACK_SYSTEM } from './bytes.js';

const SYSTEM = op.global('posix', 'system');
const SET = op.global('builtins', 'set');

const STACK_CASES = [
  ['POP_MARK', '(1.'], ['POP of a MARK', '(0N.'], ['POP_MARK without MARK', 'N1.'], ['MARK at STOP', '(.'], ['MARK MARK tuple', '((t.'],
  ['empty stream', ''], ['STOP on empty', '.'], ['DUP', 'N2\x86.'], ['DUP on empty', '2.'], ['DUP above MARK', 'N(2.'], ['POP on empty', '0N.'],
  ['TUPLE of nothing', '(t.'], ['TUPLE3 short', 'NN\x87.'], ['TUPLE1 over MARK', 'N(\x85.'], ['LIST', '(NNl.'], ['DICT', '(K\x01K\x02d.'],
  ['DICT odd', '(K\x01d.'], ['DICT unhashable key', '(]K\x02d.'], ['SETITEM', '}K\x01K\x02s.'], ['SETITEM across MARK', '}(K\x01K\x02s.'],
  ['SETITEMS odd', '}(K\x01u.'], ['SETITEMS empty', '}(u.'], ['SETITEMS no MARK', '}K\x01K\x02u.'], ['SETITEM on list', ']K\x00K\x01s.'],
  ['SETITEM on list at 0', ']NaK\x00K\x01s.'], ['SETITEM on tuple', ')K\x00K\x01s.'], ['SETITEM on int', 'K\x05K\x00K\x01s.'],
  ['APPEND', ']K\x01a.'], ['APPEND to int', 'K\x01K\x02a.'], ['APPEND to tuple', ')K\x01a.'], ['APPEND across MARK', '](K\x01a.'],
  ['APPENDS', '](K\x01K\x02e.'], ['APPENDS empty to int', 'K\x01(e.'], ['APPENDS to dict', '}(K\x01e.'], ['APPENDS no MARK', ']K\x01e.'],
  ['ADDITEMS', '\x8f(K\x01K\x02\x90.'], ['ADDITEMS to list', '](K\x01\x90.'], ['ADDITEMS unhashable', '\x8f(]\x90.'],
  ['ADDITEMS to frozenset', '(\x91(K\x01\x90.'], ['FROZENSET', '(K\x01K\x01\x91.'], ['FROZENSET unhashable', '(}\x91.'],
  ['BUILD None state on list', ']Nb.'], ['BUILD dict on dict', '}}b.'], ['BUILD on int', 'K\x01}b.'], ['BUILD slot state', ']N}\x86b.'],
  ['BUILD non-dict state', ']K\x01b.'], ['REDUCE of int', 'K\x01)R.'], ['REDUCE non-tuple args', 'N]R.'], ['NEWOBJ of int', 'K\x01)\x81.'],
  ['OBJ of int', '(K\x01o.'], ['OBJ empty', '(o.'], ['STOP leaves MARK above', 'N(N.'],
];

function* stackSeeds() {
  for (const [label, text] of STACK_CASES) {
    yield [label, bytes(text)];
    // the same, with an import after: reached only where the ops before do not stop
    if (text.endsWith('.')) yield [`${label} then import`, bytes(text.slice(0, -1), '0', SYSTEM, '.')];
  }
}

function* callSeeds() {
  const od = ORDERED_DICT;
  yield ['OrderedDict called', bytes(od, '.')];
  yield ['OrderedDict SETITEM', bytes(od, 'K\x01K\x02s.')];
  yield ['OrderedDict SETITEMS', bytes(od, '(K\x01K\x02K\x03K\x04u.')];
  yield ['OrderedDict APPENDS', bytes(od, '(K\x01e.')];
  yield ['OrderedDict APPEND', bytes(od, 'K\x01a.')];
  yield ['OrderedDict ADDITEMS', bytes(od, '(K\x01\x90.')];
  yield ['OrderedDict BUILD', bytes(od, '}b.')];
  yield ['OrderedDict as REDUCE args', bytes(SET, od, 'R.')];
  yield ['OrderedDict result called', bytes(od, ')R.')];
  yield ['OrderedDict result as dict key', bytes('}', od, 'K\x01s.')];
  yield ['OrderedDict result in FROZENSET', bytes('(', od, '\x91.')];
  yield ['global SETITEM', bytes(SET, 'K\x01K\x02s.')];
  yield ['global APPEND', bytes(SET, 'K\x01a.')];
  yield ['global APPENDS', bytes(SET, '(K\x01K\x02e.')];
  yield ['global BUILD', bytes(SET, '}b.')];
  yield ['global NEWOBJ', bytes([0x80, 2], SET, ')\x81.')];
  yield ['result NEWOBJ', bytes([0x80, 2], od, ')\x81.')];
  yield ['global NEWOBJ non-tuple', bytes([0x80, 2], SET, ']\x81.')];
  yield ['global NEWOBJ_EX', bytes([0x80, 4], SET, ')}\x92.')];
  yield ['global NEWOBJ_EX kwargs', bytes([0x80, 4], SET, ')}', op.short('k'), 'K\x01s\x92.')];
  yield ['global NEWOBJ_EX int kwargs', bytes([0x80, 4], SET, ')}', 'K\x01K\x01s\x92.')];
  yield ['global NEWOBJ_EX result kwargs', bytes([0x80, 4], SET, ')', od, '\x92.')];
  yield ['global NEWOBJ_EX list args', bytes([0x80, 4], SET, ']}\x92.')];
  yield ['OBJ of global', bytes('(', SET, 'o.')];
  yield ['OBJ of global with args', bytes('(', SET, 'K\x01o.')];
  yield ['OBJ of result', bytes('(', od, 'K\x01o.')];
  yield ['INST allowed', bytes('(icollections\nOrderedDict\n.')];
  yield ['INST refused', bytes("(S'id'\niposix\nsystem\n.")];
  yield ['INST non-ASCII module', bytes('(i\xe9\nsystem\n.')];
  yield ['INST UTF-8 module', bytes('(i\xc3\xa9\nsystem\n.')];
  yield ['INST without MARK', bytes('iposix\nsystem\n.')];
  yield ['GLOBAL non-UTF-8', bytes('c\xff\nsystem\n.')];
  yield ['GLOBAL UTF-8', bytes('cpos\xc3\xa9x\nsystem\n.')];
  yield ['GLOBAL one line', bytes('cposix\n')];
  yield ['GLOBAL empty names', bytes('c\n\n.')];
  yield ['GLOBAL dotted allowed', bytes([0x80, 2], op.global('torch', '_utils._rebuild_tensor_v2'), '.')];
  yield ['GLOBAL __builtin__', bytes(op.global('__builtin__', 'set'), op.global('__builtin__', 'eval'), '.')];
  yield ['GLOBAL CRLF', bytes('cposix\r\nsystem\r\n.')];
  yield ['STACK_GLOBAL of result', bytes([0x80, 4], od, op.short('system'), [0x93], '.')];
  yield ['STACK_GLOBAL of int', bytes([0x80, 4], 'K\x01', op.short('system'), [0x93], '.')];
  yield ['STACK_GLOBAL short stack', bytes([0x80, 4], op.short('system'), [0x93], '.')];
  yield ['STACK_GLOBAL over MARK', bytes([0x80, 4], op.short('posix'), '(', op.short('system'), [0x93], '.')];
  yield ['STACK_GLOBAL allowed then refused', bytes([0x80, 4], op.short('collections'), op.short('OrderedDict'), [0x93], '0', STACK_SYSTEM, '.')];
  yield ['STACK_GLOBAL DUP', bytes([0x80, 4], op.short('builtins'), '2', op.short('set'), [0x93], '0', op.short('eval'), [0x93], '.')];
}

function* memoSeeds() {
  yield ['MEMOIZE index is the memo length', bytes([0x80, 4], op.short('posix'), op.longBinput(5), op.memoize(), '0', op.binget(1), op.short('system'), [0x93], '.')];
  yield ['MEMOIZE after overwrite', bytes([0x80, 4], op.short('x'), op.binput(0), op.short('posix'), op.binput(0), op.memoize(), op.binget(1), op.short('system'), [0x93], '.')];
  yield ['MEMOIZE on empty', bytes([0x80, 4, 0x94, 0x2e])];
  yield ['BINPUT on empty', bytes('q\x00N.')];
  yield ['BINGET missing', bytes('h\x03.')];
  yield ['LONG_BINPUT 2^32-1', bytes('N', op.longBinput(0xffffffff), '.')];
  yield ['LONG_BINPUT 2^31', bytes('N', op.longBinput(0x80000000), '.')];
  yield ['LONG_BINGET huge', bytes('N', op.longBinget(0xfffffff0), '.')];
  yield ['PUT of a MARK', bytes('(p0\n.')];
  yield ['GET into STACK_GLOBAL', bytes([0x80, 4], op.short('posix'), 'p0\n0', op.short('system'), 'p1\n0g0\ng1\n', [0x93], '.')];
  yield ['memo shared list mutated', bytes(']q\x00h\x00K\x01a.')];
}

function* streamSeeds() {
  yield ['PROTO 6', bytes([0x80, 6], SYSTEM, '.')];
  yield ['PROTO 255', bytes([0x80, 255], SYSTEM, '.')];
  yield ['PROTO 0', bytes([0x80, 0], SYSTEM, '.')];
  yield ['PROTO late', bytes('N0', [0x80, 5], SYSTEM, '.')];
  yield ['PROTO cut', bytes([0x80])];
  yield ['FRAME exact', bytes([0x80, 4], op.frame(17), STACK_SYSTEM, '.')];
  yield ['FRAME past the end', bytes([0x80, 4], op.frame(1000), SYSTEM, '.')];
  yield ['FRAME zero', bytes([0x80, 4], op.frame(0), SYSTEM, '.')];
  yield ['FRAME short (opcode across frames)', bytes([0x80, 4], op.frame(3), SYSTEM, '.')];
  yield ['FRAME huge', bytes([0x80, 4], op.frame(2n ** 63n), SYSTEM, '.')];
  yield ['FRAME in FRAME', bytes([0x80, 4], op.frame(10), op.frame(1), 'N', SYSTEM, '.')];
  yield ['FRAME in protocol 2', bytes([0x80, 2], op.frame(16), SYSTEM, '.')];
  for (const [name, code] of [['EXT1', [0x82, 1]], ['EXT1 0', [0x82, 0]], ['EXT2', [0x83, 1, 2]], ['EXT4', [0x84, 1, 0, 0, 0]], ['EXT4 negative', [0x84, 0xff, 0xff, 0xff, 0xff]], ['EXT4 zero', [0x84, 0, 0, 0, 0]]]) {
    yield [name, bytes([0x80, 2], code, SYSTEM, '.')];
  }
  yield ['PERSID', bytes('Pabc\n.')];
  yield ['PERSID non-ASCII', bytes('P\xe9\n.')];
  yield ['PERSID then import', bytes('P0\n0', SYSTEM, '.')];
  yield ['BINPERSID', bytes('K\x01Q.')];
  yield ['BINPERSID empty', bytes('Q.')];
  yield ['BINPERSID result called', bytes('K\x01Q)R.')];
  yield ['BINPERSID result STACK_GLOBAL', bytes([0x80, 4], op.short('posix'), 'K\x01Q', [0x93], '.')];
  yield ['NEXT_BUFFER', bytes([0x80, 5, 0x97], '.')];
  yield ['NEXT_BUFFER then import', bytes([0x80, 5, 0x97], SYSTEM, '.')];
  yield ['READONLY_BUFFER on bytes', bytes([0x80, 5], op.shortBytes('ab'), [0x98], SYSTEM, '.')];
  yield ['READONLY_BUFFER on bytearray', bytes([0x80, 5, 0x96], le(2, 8), 'ab', [0x98], SYSTEM, '.')];
  yield ['READONLY_BUFFER on int', bytes([0x80, 5], 'K\x01', [0x98], SYSTEM, '.')];
  yield ['READONLY_BUFFER on result', bytes([0x80, 5], ORDERED_DICT, [0x98], SYSTEM, '.')];
  yield ['READONLY_BUFFER empty', bytes([0x80, 5, 0x98], '.')];
  yield ['second stream', bytes([0x80, 2], 'N.', [0x80, 2], SYSTEM, '.')];
  yield ['import and no STOP', bytes(SYSTEM, '\xff\xfe garbage')];
  yield ['unknown opcode', bytes([0x80, 2, 0xff], SYSTEM, '.')];
}

/** test/helpers/pickles.ts stateDictPickle(): what torch.save writes for a small state dict. */
const STATE_DICT = bytes(
  [0x80, 2], op.global('collections', 'OrderedDict'), ')R', op.binput(0), op.short('weight'), op.binput(1),
  op.global('torch._utils', '_rebuild_tensor_v2'), op.binput(2), '((', op.short('storage'), op.binput(3), op.global('torch', 'FloatStorage'),
  op.binput(4), op.short('0'), op.short('cpu'), 'K\x04tQK\x00K\x02K\x02', [0x86], 'K\x02K\x01', [0x86, 0x89], op.global('collections', 'OrderedDict'), ')RtRs.',
);

function* bypassSeeds() {
  yield ['state dict', STATE_DICT];
  yield ['GLOBAL protocol 0', bytes(SYSTEM, "(S'id'\ntR.")];
  yield ['GLOBAL protocol 2', bytes([0x80, 2], SYSTEM, op.short('id'), [0x85], 'R.')];
  yield ['STACK_GLOBAL via MEMOIZE and BINGET', bytes([0x80, 4], op.short('posix'), [0x94], '0', op.short('system'), [0x94], '0', op.binget(0), op.binget(1), [0x93], '.')];
  yield ['STACK_GLOBAL via PUT and GET', bytes([0x80, 4], op.unicode('posix'), 'p7\n0', op.unicode('system'), 'p9\n0g7\ng9\n', [0x93], '.')];
  yield ['STACK_GLOBAL via LONG_BINPUT', bytes([0x80, 4], op.short('posix'), op.longBinput(70000), op.short('system'), [0x93], '0', op.longBinget(70000), op.short('system'), [0x93], '.')];
  yield ['after a long BINBYTES', bytes([0x80, 3], op.binbytes('c'.repeat(200)), '0', SYSTEM, '.')];
  yield ['memo index with underscore', bytes([0x80, 4], op.short('posix'), 'p1_0\n0', op.short('system'), 'p2_0\n0g1_0\ng2_0\n', [0x93], '.')];
  yield ['memo index with sign and spaces', bytes([0x80, 4], op.short('posix'), 'p +7 \n0g07\n', op.short('system'), [0x93], '.')];
  yield ['surrogate before import', bytes([0x80, 4, 0x8c, 3, 0xed, 0xa0, 0x80], '0', STACK_SYSTEM, '.')];
  yield ['STACK_GLOBAL module from a call', bytes([0x80, 4], ORDERED_DICT, op.short('system'), [0x93], '.')];
  yield ['STACK_GLOBAL name from a persistent load', bytes([0x80, 4], op.short('posix'), 'Px\n', [0x93], '.')];
  yield ['memo index with two underscores', bytes([0x80, 2], 'Np1__0\n', SYSTEM, '.')];
  yield ['REDUCE non-tuple then import', bytes([0x80, 2], op.global('collections', 'OrderedDict'), 'NR', SYSTEM, '.')];
  yield ['deep stack', bytes([0x80, 2], ']'.repeat(2000), '.')];
  yield ['builtins.eval after allowed', bytes([0x80, 2], op.global('collections', 'OrderedDict'), '0', op.global('builtins', 'eval'), '.')];
  yield ['text certifi', bytes('certifi\nnumpy\nrequests\n')];
  yield ['text JSON', bytes('{"a": 1}\n')];
}

export function* structureSeeds() {
  yield* stackSeeds();
  yield* callSeeds();
  yield* memoSeeds();
  yield* streamSeeds();
  yield* bypassSeeds();
}
