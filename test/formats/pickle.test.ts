import { describe, expect, it } from 'vitest';
import { ContentInspector, judgeContent, PickleScanner, type Inspection } from '../../src/formats/index.js';
import { evilPickle, op, pickle, stateDictPickle } from '../helpers/pickles.js';

/** Fed in pieces of every size from 1 byte up: what is found must not depend on where chunks end. */
function scan(bytes: Buffer, pieces = [1, 3, 7, 64, 1 << 20]) {
  const results = pieces.map((size) => {
    const scanner = new PickleScanner();
    for (let i = 0; i < bytes.length && !scanner.finished; i += size) scanner.feed(bytes.subarray(i, i + size));
    return scanner.end();
  });
  for (const result of results) expect(result).toEqual(results[0]);
  return results[0] as ReturnType<PickleScanner['end']>;
}

function inspect(bytes: Buffer, name = 'weights.bin'): Inspection {
  const inspector = new ContentInspector(bytes.length, name);
  inspector.feed(bytes);
  return inspector.end();
}

const codes = (bytes: Buffer, name = 'weights.bin') => judgeContent(name, inspect(bytes, name)).map((f) => f.code);

describe('pickle opcode walk: every way to name an import', () => {
  it.each([
    ['GLOBAL (protocol 0 text)', pickle(op.global('posix', 'system'), op.mark(), op.string('id'), op.tuple(), op.reduce(), op.stop())],
    ['GLOBAL (protocol 2)', evilPickle()],
    ['INST', pickle(op.mark(), op.string('id'), op.inst('posix', 'system'), op.stop())],
    ['STACK_GLOBAL with literal operands', pickle(op.proto(4), op.shortUnicode('posix'), op.shortUnicode('system'), op.stackGlobal(), op.stop())],
    ['STACK_GLOBAL through MEMOIZE and BINGET', pickle(op.proto(4), op.shortUnicode('posix'), op.memoize(), op.pop(), op.shortUnicode('system'), op.memoize(), op.pop(), op.binget(0), op.binget(1), op.stackGlobal(), op.stop())],
    ['STACK_GLOBAL through PUT and GET (text memo)', pickle(op.proto(4), op.unicode('posix'), op.put(7), op.pop(), op.unicode('system'), op.put(9), op.pop(), op.get(7), op.get(9), op.stackGlobal(), op.stop())],
    ['STACK_GLOBAL through LONG_BINPUT and LONG_BINGET', pickle(op.proto(4), op.shortUnicode('posix'), op.longBinput(70000), op.shortUnicode('system'), op.stackGlobal(), op.pop(), op.longBinget(70000), op.shortUnicode('system'), op.stackGlobal(), op.stop())],
    ['inside a FRAME', pickle(op.proto(4), op.frame(17), op.shortUnicode('posix'), op.shortUnicode('system'), op.stackGlobal(), op.stop())],
    ['in a second pickle stream after a benign one', Buffer.concat([pickle(op.proto(2), op.none(), op.stop()), evilPickle()])],
    ['after a long BINBYTES payload', pickle(op.proto(3), op.binbytes(Buffer.alloc(100_000, 0x63)), op.pop(), op.global('posix', 'system'), op.stop())],
    ['after a long BINUNICODE payload', pickle(op.proto(3), op.unicode('é'.repeat(40_000)), op.pop(), op.global('posix', 'system'), op.stop())],
  ])('names posix.system reached by %s', (_name, bytes) => {
    const result = scan(bytes);
    expect(result.imports).toContain('posix.system');
    expect(codes(bytes)).toContain('PICKLE_UNSAFE');
  });

  it('reports a dotted attribute path as module:path, never as an allowed name', () => {
    const bytes = pickle(op.proto(4), op.shortUnicode('torch'), op.shortUnicode('_utils._rebuild_tensor_v2'), op.stackGlobal(), op.stop());
    expect(scan(bytes).imports).toEqual(['torch:_utils._rebuild_tensor_v2']);
    expect(codes(bytes)).toEqual(['PICKLE_UNSAFE']);
  });

  it('names builtins.eval among allowed imports', () => {
    const bytes = pickle(op.proto(2), op.global('collections', 'OrderedDict'), op.pop(), op.global('builtins', 'eval'), op.stop());
    expect(judgeContent('x.pkl', inspect(bytes))).toEqual([expect.objectContaining({ code: 'PICKLE_UNSAFE', path: 'x.pkl', message: expect.stringMatching(/ imports builtins\.eval, which can run code/) as unknown })]);
  });
});

describe('the unpickler model: what CPython parses, aisc parses', () => {
  it.each([
    ['a memo index written with an underscore (PUT/GET through int())', pickle(op.proto(4), op.shortUnicode('posix'), Buffer.from('p1_0\n'), op.pop(), op.shortUnicode('system'), Buffer.from('p2_0\n'), op.pop(), Buffer.from('g1_0\ng2_0\n'), op.stackGlobal(), op.stop())],
    ['a memo index with a sign and spaces', pickle(op.proto(4), op.shortUnicode('posix'), Buffer.from('p +7 \n'), op.pop(), Buffer.from('g07\n'), op.shortUnicode('system'), op.stackGlobal(), op.stop())],
    ['a SHORT_BINUNICODE holding a UTF-8-encoded surrogate before the import', pickle(op.proto(4), Buffer.from([0x8c, 3, 0xed, 0xa0, 0x80]), op.pop(), op.shortUnicode('posix'), op.shortUnicode('system'), op.stackGlobal(), op.stop())],
    ['an import with nothing after it (code runs before any STOP)', pickle(op.global('posix', 'system'), Buffer.from('\xff\xfe garbage', 'latin1'))],
  ])('names posix.system reached through %s', (_name, bytes) => {
    expect(scan(bytes).imports).toContain('posix.system');
    expect(codes(bytes)).toContain('PICKLE_UNSAFE');
  });

  it.each([
    ['a STACK_GLOBAL whose module comes from a call', pickle(op.proto(4), op.global('collections', 'OrderedDict'), op.emptyTuple(), op.reduce(), op.shortUnicode('system'), op.stackGlobal(), op.stop())],
    ['a STACK_GLOBAL whose name comes from a persistent load', pickle(op.proto(4), op.shortUnicode('posix'), op.persid('x'), op.stackGlobal(), op.stop())],
  ])('calls %s undecidable, and refuses it', (_name, bytes) => {
    expect(scan(bytes).undecidable).toEqual([expect.stringContaining('computed when the pickle is loaded')]);
    expect(codes(bytes)).toEqual(['PICKLE_UNDECIDABLE']);
  });

  it.each([
    ['an extension-registry import (EXT1: the registry is empty)', pickle(op.proto(2), op.ext1(1), op.global('posix', 'system'), op.stop())],
    ['an unknown opcode', pickle(op.proto(2), Buffer.from([0xff]), op.global('posix', 'system'), op.stop())],
    ['a protocol above 5', pickle(Buffer.from([0x80, 6]), op.global('posix', 'system'), op.stop())],
    ['a GET of a memo slot never stored', pickle(op.proto(2), op.binget(5), op.global('posix', 'system'), op.stop())],
    ['a memo index with two underscores in a row', pickle(op.proto(2), op.none(), Buffer.from('p1__0\n'), op.global('posix', 'system'), op.stop())],
    ['a FRAME longer than what follows', pickle(op.proto(4), op.frame(1000), op.global('posix', 'system'), op.stop())],
    ['a REDUCE whose arguments are not a tuple', pickle(op.proto(2), op.global('collections', 'OrderedDict'), op.none(), op.reduce(), op.global('posix', 'system'), op.stop())],
    ['an INST with a non-ASCII module', pickle(op.mark(), Buffer.from('i\xe9\nsystem\n', 'latin1'), op.stop())],
  ])('runs nothing after %s: CPython stops there first', (_name, bytes) => {
    expect(scan(bytes).imports.filter((i) => i === 'posix.system' || i === '\u00e9.system')).toEqual([]);
    expect(codes(bytes)).toEqual([]);
  });

  it('bounds the stack it follows, and calls past the bound undecidable', () => {
    const deep = pickle(op.proto(2), Buffer.alloc(1_000_001, ']'.charCodeAt(0)), op.stop());
    expect(scan(deep, [1 << 20]).undecidable).toEqual([expect.stringContaining('a stack deeper than')]);
  });
});

describe('pickle opcode walk: benign pickles pass', () => {
  it('a torch.save state dict (OrderedDict, _rebuild_tensor_v2, FloatStorage via BINPERSID)', () => {
    const bytes = stateDictPickle();
    expect(scan(bytes)).toEqual({ header: true, complete: true, called: true, streams: 1, imports: ['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch.FloatStorage'], undecidable: [] });
    expect(codes(bytes, 'data.pkl')).toEqual([]);
  });

  it('text and JSON are no finding under any name, though they start with opcode bytes', () => {
    for (const text of ['{"a": 1}\n', 'Hello, world.\n', '(((\n', 'c\n', 'cos\n', 'GIT v1.5.2.1 Release Notes\n', 'certifi\nnumpy\nrequests\n']) {
      for (const name of ['notes.txt', 'README', 'pytorch_model.bin']) {
        // Under a pickle's name its loader would import ertifi.numpy, as CPython's does.
        expect(codes(Buffer.from(text), name), `${name}: ${text}`).toEqual(name === 'pytorch_model.bin' && text.startsWith('certifi') ? ['PICKLE_UNSAFE'] : []);
      }
    }
  });

  it('a pickle that calls what it imports counts under any name, junk after it or not', () => {
    const bytes = Buffer.from("cposix\nsystem\n(Vtrue\ntRzjunk text here\n", 'latin1');
    for (const name of ['weights', 'model.dat', 'notes.txt']) expect(codes(bytes, name), name).toContain('PICKLE_UNSAFE');
  });

  it('a data-only pickle is no finding under any name', () => {
    const data = pickle(op.proto(4), op.emptyDict(), op.shortUnicode('a'), op.binint1(1), op.setitem(), op.stop());
    for (const name of ['x.pkl', 'x.json', 'x.safetensors', 'x']) expect(judgeContent(name, inspect(data)).filter((f) => f.code !== 'FORMAT_MISMATCH' || name === 'x.json')).toEqual([]);
  });

  it('the policy can allow an exact import', () => {
    const bytes = pickle(op.proto(2), op.global('sklearn.linear_model', 'LogisticRegression'), op.stop());
    expect(judgeContent('m.pkl', inspect(bytes), new Set(['sklearn.linear_model.LogisticRegression']))).toEqual([]);
    expect(judgeContent('m.pkl', inspect(bytes), new Set(['sklearn.linear_model.Other']))).toHaveLength(1);
  });
});
