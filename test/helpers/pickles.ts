/**
 * Pickles written opcode by opcode, as the tests need them (no Python): each helper is one
 * opcode with its argument encoded as the pickle format defines it.
 */
export const op = {
  proto: (n: number) => Buffer.from([0x80, n]),
  frame: (n: number) => Buffer.concat([Buffer.from([0x95]), u64(n)]),
  global: (module: string, name: string) => Buffer.from(`c${module}\n${name}\n`, 'latin1'),
  inst: (module: string, name: string) => Buffer.from(`i${module}\n${name}\n`, 'latin1'),
  shortUnicode: (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    return Buffer.concat([Buffer.from([0x8c, bytes.length]), bytes]);
  },
  unicode: (text: string) => Buffer.concat([Buffer.from([0x58]), u32(Buffer.byteLength(text)), Buffer.from(text, 'utf8')]),
  string: (text: string) => Buffer.from(`S'${text}'\n`, 'latin1'),
  binbytes: (bytes: Buffer) => Buffer.concat([Buffer.from([0x42]), u32(bytes.length), bytes]),
  stackGlobal: () => Buffer.from([0x93]),
  memoize: () => Buffer.from([0x94]),
  put: (i: number) => Buffer.from(`p${i}\n`, 'latin1'),
  binput: (i: number) => Buffer.from([0x71, i]),
  longBinput: (i: number) => Buffer.concat([Buffer.from([0x72]), u32(i)]),
  get: (i: number) => Buffer.from(`g${i}\n`, 'latin1'),
  binget: (i: number) => Buffer.from([0x68, i]),
  longBinget: (i: number) => Buffer.concat([Buffer.from([0x6a]), u32(i)]),
  mark: () => Buffer.from('('),
  tuple: () => Buffer.from('t'),
  tuple1: () => Buffer.from([0x85]),
  emptyTuple: () => Buffer.from(')'),
  emptyDict: () => Buffer.from('}'),
  reduce: () => Buffer.from('R'),
  build: () => Buffer.from('b'),
  setitem: () => Buffer.from('s'),
  binint1: (n: number) => Buffer.from([0x4b, n]),
  none: () => Buffer.from('N'),
  pop: () => Buffer.from('0'),
  persid: (id: string) => Buffer.from(`P${id}\n`, 'latin1'),
  binpersid: () => Buffer.from('Q'),
  ext1: (code: number) => Buffer.from([0x82, code]),
  stop: () => Buffer.from('.'),
};

export function pickle(...parts: Buffer[]): Buffer {
  return Buffer.concat(parts);
}

/** `os.system('id')` the way pickle.dumps writes it with protocol 2. */
export function evilPickle(module = 'posix', name = 'system'): Buffer {
  return pickle(op.proto(2), op.global(module, name), op.shortUnicode('id'), op.tuple1(), op.reduce(), op.stop());
}

/** A small state dict the way torch.save writes data.pkl (protocol 2): OrderedDict of rebuilt tensors. */
export function stateDictPickle(): Buffer {
  return pickle(
    op.proto(2),
    op.global('collections', 'OrderedDict'),
    op.emptyTuple(),
    op.reduce(),
    op.binput(0),
    op.shortUnicode('weight'),
    op.binput(1),
    op.global('torch._utils', '_rebuild_tensor_v2'),
    op.binput(2),
    op.mark(),
    op.mark(),
    op.shortUnicode('storage'),
    op.binput(3),
    op.global('torch', 'FloatStorage'),
    op.binput(4),
    op.shortUnicode('0'),
    op.shortUnicode('cpu'),
    op.binint1(4),
    op.tuple(),
    op.binpersid(),
    op.binint1(0),
    op.binint1(2),
    op.binint1(2),
    Buffer.from([0x86]), // TUPLE2
    op.binint1(2),
    op.binint1(1),
    Buffer.from([0x86]),
    Buffer.from([0x89]), // NEWFALSE
    op.global('collections', 'OrderedDict'),
    op.emptyTuple(),
    op.reduce(),
    op.tuple(),
    op.reduce(),
    op.setitem(),
    op.stop(),
  );
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
