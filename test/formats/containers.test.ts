import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { ContentInspector, judgeContent, type Inspection } from '../../src/formats/index.js';
import { evilPickle, op, pickle, stateDictPickle } from '../helpers/pickles.js';
import { tarOf } from '../helpers/torch-tars.js';
import { localHeader, writeZip } from '../helpers/zips.js';

function inspect(bytes: Buffer, name = 'pytorch_model.bin', pieces = [5, 4096, 1 << 20]): Inspection {
  const results = pieces.map((size) => {
    const inspector = new ContentInspector(bytes.length, name);
    // Copies: the hash worker reuses its buffer, so nothing may be kept by reference.
    for (let i = 0; i < bytes.length; i += size) inspector.feed(Buffer.from(bytes.subarray(i, i + size)));
    return inspector.end();
  });
  for (const result of results) expect(result).toEqual(results[0]);
  return results[0] as Inspection;
}
const codes = (bytes: Buffer, name = 'pytorch_model.bin') => [...new Set(judgeContent(name, inspect(bytes, name)).map((f) => f.code))];
const storage = Buffer.alloc(4096, 0x3f);

function npyBytes(descr: string, body: Buffer, keys = ''): Buffer {
  let header = `{'descr': ${descr}, 'fortran_order': False, 'shape': (2,), ${keys}}`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const length = Buffer.alloc(2);
  length.writeUInt16LE(header.length);
  return Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0]), length, Buffer.from(header, 'latin1'), body]);
}

describe('PyTorch zip checkpoints, read as leniently as PyTorch reads them', () => {
  const benign = () => [
    { name: 'archive/data.pkl', data: stateDictPickle() },
    { name: 'archive/data/0', data: storage },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ];

  it('passes a benign checkpoint (stored, with data descriptors as torch.save writes them)', () => {
    for (const descriptor of [false, true]) {
      const zip = writeZip(benign().map((entry) => ({ ...entry, descriptor })));
      expect(inspect(zip).format).toBe('pytorch-zip');
      expect(codes(zip)).toEqual([]);
    }
  });

  it.each([
    ['a malicious data.pkl', [{ name: 'archive/data.pkl', data: evilPickle() }]],
    ['a bad CRC (not checked by miniz)', [{ name: 'archive/data.pkl', data: evilPickle(), badCrc: true }]],
    ['a local header whose name differs from the central directory', [{ name: 'archive/data.pkl', localName: 'archive/readme.txt', data: evilPickle() }]],
    ['a data-descriptor member', [{ name: 'archive/data.pkl', data: evilPickle(), descriptor: true }]],
  ])('finds the pickle behind %s', (_name, entries) => {
    const zip = writeZip(entries);
    expect(codes(zip)).toContain('PICKLE_UNSAFE');
  });

  it('judges only what torch.load unpickles: data.pkl and constants.pkl, never storages or other members', () => {
    const extra = writeZip([...benign(), { name: 'archive/extra/notes.pkl', data: evilPickle() }, { name: 'archive/inner.zip', data: writeZip([{ name: 'data.pkl', data: evilPickle() }]) }]);
    expect(codes(extra)).toEqual([]);
    expect(codes(writeZip([...benign(), { name: 'archive/constants.pkl', data: evilPickle() }]))).toEqual(['PICKLE_UNSAFE']);
    // A storage whose bytes would stop CPython's unpickler at once (bf16 1.0 is 0x80 0x3f) or run on as opcodes.
    for (const data of [Buffer.from([0x80, 0x3f, 0x80, 0x3f]), Buffer.from('cposix\nsystem\n.', 'latin1')]) {
      expect(codes(writeZip([...benign(), { name: 'archive/data/1', data }]))).toEqual([]);
    }
  });

  it('finds data.pkl as miniz does, whatever its case, and the object arrays np.load would read from any zip under a loader\'s name', () => {
    expect(codes(writeZip([{ name: 'archive/DATA.PKL', data: evilPickle() }, { name: 'archive/data/0', data: storage }]))).toEqual(['PICKLE_UNSAFE']);
    const objectArray = npyBytes("'|O'", evilPickle());
    for (const name of ['a.npy', 'weights.bin', 'model.pkl', 'mixed.npz']) {
      expect(codes(writeZip([...benign(), { name: 'a.npy', data: objectArray }]), name), name).toEqual(['PICKLE_UNSAFE']);
    }
  });

  it('in a zip of no known loader, each member goes by its own name; a zip inside too', () => {
    const zip = writeZip([{ name: 'a/model.pkl', data: evilPickle() }, { name: 'b/notes.txt', data: Buffer.from('certifi\nnumpy\n') }]);
    expect(judgeContent('bundle.zip', inspect(zip, 'bundle.zip')).map((f) => f.message)).toEqual([expect.stringContaining('(in a/model.pkl) imports posix.system')]);
    const nested = writeZip([{ name: 'inner.zip', data: writeZip([{ name: 'data.pkl', data: evilPickle() }]) }]);
    expect(codes(nested, 'bundle.zip')).toEqual(['PICKLE_UNSAFE']);
  });

  it('reports a renamed local header under the central name PyTorch opens', () => {
    const zip = writeZip([{ name: 'archive/data.pkl', localName: 'archive/readme.txt', data: evilPickle() }]);
    expect(inspect(zip).pickles?.[0]?.member).toBe('archive/data.pkl');
  });

  it('finds a pickle in a zip built by a zip library, deflated', () => {
    const zip = Buffer.from(zipSync({ 'archive/data.pkl': evilPickle(), 'archive/data/0': storage }, { level: 6 }));
    expect(codes(zip)).toContain('PICKLE_UNSAFE');
  });

  it.each([
    ['a member hidden in another member, named only by the central directory', () => {
      const hidden = localHeader('archive/data.pkl', evilPickle());
      const zip = writeZip([{ name: 'archive/data/0', data: Buffer.concat([storage, hidden]) }], { extraCentral: [{ name: 'archive/data.pkl', offset: 30 + 'archive/data/0'.length + storage.length, size: evilPickle().length }] });
      return zip;
    }],
    ['an encrypted member', () => writeZip([{ name: 'archive/data.pkl', data: evilPickle(), flags: 1 }])],
    ['a method aisc does not open (LZMA)', () => writeZip([{ name: 'archive/data.pkl', data: evilPickle(), method: 14 }])],
    ['a truncated zip', () => writeZip([{ name: 'archive/data.pkl', data: stateDictPickle() }], { truncate: 60 })],
    ['bytes after the end of the zip', () => Buffer.concat([writeZip(benign()), Buffer.from('trailing')])],
  ])('calls %s unscannable', (_name, make) => {
    expect(codes(make())).toContain('CONTENT_UNSCANNABLE');
  });
});

describe('other places a pickle hides', () => {
  const legacy = (main: Buffer) =>
    Buffer.concat([
      Buffer.from('80028a0a6cfc9c46f9206aa850192e', 'hex'), // the magic number
      pickle(op.proto(2), op.binint1(2), Buffer.from([0x4d, 0xe9, 0x03]), op.stop()), // protocol version 1001
      pickle(op.proto(2), op.emptyDict(), op.stop()), // sys_info
      main,
      pickle(op.proto(2), Buffer.from(']'), op.stop()), // storage keys
      Buffer.alloc(64, 0x80),
    ]);

  it('PyTorch legacy format: every pickle after the magic number', () => {
    expect(inspect(legacy(stateDictPickle())).format).toBe('pytorch-legacy');
    expect(codes(legacy(stateDictPickle()))).toEqual([]);
    expect(codes(legacy(evilPickle()))).toEqual(['PICKLE_UNSAFE']);
  });

  const npy = npyBytes;

  it('numpy: an object array is a pickle; a plain one is not', () => {
    expect(codes(npy("'|O'", evilPickle()), 'x.npy')).toEqual(['PICKLE_UNSAFE']);
    expect(codes(npy("'<f4'", Buffer.alloc(8)), 'x.npy')).toEqual([]);
    // Any spelling numpy reads as object, and the last of two descr keys (literal_eval keeps it).
    expect(codes(npy("'object'", evilPickle()), 'x.npy')).toEqual(['PICKLE_UNSAFE']);
    expect(codes(npy("'<f4'", evilPickle(), "'descr': '|O', "), 'x.npy')).toEqual(['PICKLE_UNSAFE']);
    expect(codes(npy("[('x', '<f4'), ('y', 'u1')]", Buffer.alloc(10)), 'x.npy')).toEqual([]);
    expect(inspect(npy("'<f4'", Buffer.alloc(8))).facts).toEqual({ tensors: 1, parameters: 2, dtypes: ['f4'] });
    const npz = Buffer.from(zipSync({ 'a.npy': npy("'<f4'", Buffer.alloc(8)), 'b.npy': npy("[('x', '|O')]", evilPickle()) }));
    expect(inspect(npz, 'x.npz').format).toBe('numpy');
    expect(codes(npz, 'x.npz')).toEqual(['PICKLE_UNSAFE']);
  });

  it('gzip is opened; 7z, xz and the like are unscannable', () => {
    expect(codes(gzipSync(evilPickle()), 'model.pkl.gz')).toEqual(['PICKLE_UNSAFE']);
    expect(codes(Buffer.concat([Buffer.from('377abcaf271c', 'hex'), Buffer.alloc(32)]), 'model.7z')).toEqual(['CONTENT_UNSCANNABLE']);
  });

  it('a tar, as the oldest torch.save wrote, has its members inspected', () => {
    const tar = tarOf([['pickle', evilPickle()]]);
    expect(inspect(tar).format).toBe('tar');
    expect(codes(tar, 'old.tar')).toEqual(['PICKLE_UNSAFE']);
  });

  it('a pickle renamed to .safetensors is a mismatch as well as unsafe; to .dat, unsafe by content', () => {
    expect(codes(evilPickle(), 'model.safetensors').sort()).toEqual(['FORMAT_MISMATCH', 'PICKLE_UNSAFE']);
    // One mismatch, not one for the pickle and another for the name.
    expect(judgeContent('model.safetensors', inspect(evilPickle(), 'model.safetensors')).filter((f) => f.code === 'FORMAT_MISMATCH')).toHaveLength(1);
    expect(codes(evilPickle(), 'weights.dat')).toEqual(['PICKLE_UNSAFE']);
  });
});

describe('text and JSON, told from bytes without decoding them', () => {
  it('tells JSON by its first non-blank character, after a byte-order mark too', () => {
    expect(inspect(Buffer.from(' \n\t{"a": 1}\n')).format).toBe('json');
    expect(inspect(Buffer.from('\ufeff[1, 2]')).format).toBe('json');
    expect(inspect(Buffer.from('Hello, {world}\n')).format).toBe('text');
    expect(inspect(Buffer.from('')).format).toBe('unknown');
  });

  it('keeps a character cut at the end of the 4 KiB head as text, and calls control bytes or bad UTF-8 unknown', () => {
    expect(inspect(Buffer.from(`${'a'.repeat(4095)}é and more`)).format).toBe('text');
    expect(inspect(Buffer.from(`${'a'.repeat(4094)}€ and more`)).format).toBe('text');
    expect(inspect(Buffer.from('text with a \u0000 in it')).format).toBe('unknown');
    expect(inspect(Buffer.from('text with an escape \u001b[0m is text')).format).toBe('text');
    expect(inspect(Buffer.from([0x61, 0x62, 0xc3, 0x28, 0x0a])).format).toBe('unknown');
  });
});
