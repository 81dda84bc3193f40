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

function inspect(bytes: Buffer): Inspection {
  const inspector = new ContentInspector(bytes.length);
  inspector.feed(bytes);
  return inspector.end();
}

const codes = (bytes: Buffer, name = 'weights.bin') => judgeContent(name, inspect(bytes)).map((f) => f.code);

describe('pickle opcode walk: every way to name an import', () => {
  it.each([
    ['GLOBAL (protocol 0 text)', pickle(op.global('posix', 'system'), op.mark(), op.string('id'), op.tuple(), op.reduce(), op.stop())],
    ['GLOBAL (protocol 2)', evilPickle()],
    ['INST', pickle(op.mark(), op.string('id'), op.inst('posix', 'system'), op.stop())],
    ['STACK_GLOBAL with literal operands', pickle(op.proto(4), op.shortUnicode('posix'), op.shortUnicode('system'), op.stackGlobal(), op.stop())],
    ['STACK_GLOBAL through MEMOIZE and BINGET', pickle(op.proto(4), op.shortUnicode('posix'), op.memoize(), op.pop(), op.shortUnicode('system'), op.memoize(), op.pop(), op.binget(0), op.binget(1), op.stackGlobal(), op.stop())],
    ['STACK_GLOBAL through PUT and GET (text memo)', pickle(op.proto(4), op.unicode('posix'), op.put(7), op.pop(), op.unicode('system'), op.put(9), op.pop(), op.get(7), op.get(9), op.stackGlobal(), op.stop())],
    ['STACK_GLOBAL through LONG_BINPUT and LONG_BINGET', pickle(op.proto(4), op.shortUnicode('posix'), op.longBinput(70000), op.shortUnicode('system'), op.stackGlobal(), op.pop(), op.longBinget(70000), op.shortUnicode('system'), op.stackGlobal(), op.stop())],
    ['inside a FRAME', pickle(op.proto(4), op.frame(40), op.shortUnicode('posix'), op.shortUnicode('system'), op.stackGlobal(), op.stop())],
    ['in a second pickle stream after a benign one', Buffer.concat([pickle(op.proto(2), op.none(), op.stop()), evilPickle()])],
    ['after a long BINBYTES payload', pickle(op.proto(3), op.binbytes(Buffer.alloc(100_000, 0x63)), op.pop(), op.global('posix', 'system'), op.stop())],
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
    expect(judgeContent('x.pkl', inspect(bytes))).toEqual([expect.objectContaining({ code: 'PICKLE_UNSAFE', imports: ['builtins.eval'] })]);
  });
});

describe('pickle opcode walk: what it cannot follow is unsafe', () => {
  it.each([
    ['a STACK_GLOBAL whose module comes from a call', pickle(op.proto(4), op.global('collections', 'OrderedDict'), op.emptyTuple(), op.reduce(), op.shortUnicode('system'), op.stackGlobal(), op.stop())],
    ['a STACK_GLOBAL whose name comes from a persistent load', pickle(op.proto(4), op.shortUnicode('posix'), op.persid('x'), op.stackGlobal(), op.stop())],
    ['an extension-registry import (EXT1)', pickle(op.proto(2), op.ext1(1), op.stop())],
    ['an unknown opcode in a protocol-2 pickle', pickle(op.proto(2), Buffer.from([0xff]), op.stop())],
    ['a pickle cut before its STOP', pickle(op.proto(2), op.global('collections', 'OrderedDict'))],
    ['a GET of a memo slot never stored', pickle(op.proto(2), op.binget(5), op.stop())],
  ])('%s', (_name, bytes) => {
    const result = scan(bytes);
    expect(result.problems.length).toBeGreaterThan(0);
    expect(codes(bytes)).toContain('PICKLE_UNSAFE');
  });

  it('bounds the memo, the stack and the opcodes it follows', () => {
    const deep = pickle(op.proto(2), Buffer.alloc(1_000_001, ']'.charCodeAt(0)), op.stop());
    expect(scan(deep, [1 << 20]).problems).toEqual([expect.stringContaining('a stack deeper than')]);
  });
});

describe('pickle opcode walk: benign pickles pass', () => {
  it('a torch.save state dict (OrderedDict, _rebuild_tensor_v2, FloatStorage via BINPERSID)', () => {
    const bytes = stateDictPickle();
    expect(scan(bytes)).toEqual({ isPickle: true, streams: 1, imports: ['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch.FloatStorage'], problems: [] });
    expect(codes(bytes, 'data.pkl')).toEqual([]);
  });

  it('text and JSON are not pickles, though they start with opcode bytes', () => {
    for (const text of ['{"a": 1}\n', 'Hello, world.\n', '(((\n', 'c\n', 'cos\n']) {
      const result = scan(Buffer.from(text));
      expect(result.isPickle, text).toBe(false);
      expect(result.problems, text).toEqual([]);
    }
  });

  it('the policy can allow an exact import', () => {
    const bytes = pickle(op.proto(2), op.global('sklearn.linear_model', 'LogisticRegression'), op.stop());
    expect(judgeContent('m.pkl', inspect(bytes), new Set(['sklearn.linear_model.LogisticRegression']))).toEqual([]);
    expect(judgeContent('m.pkl', inspect(bytes), new Set(['sklearn.linear_model.Other']))).toHaveLength(1);
  });
});
